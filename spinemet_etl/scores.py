"""The revised Tokuhashi and the Tomita prognostic scores, from canonical columns, vectorized."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

TOKUHASHI_PRIMARY_POINTS: dict[str, int] = {
    **dict.fromkeys(["lung", "osteosarcoma", "stomach", "bladder", "esophagus", "pancreas"], 0),
    **dict.fromkeys(["liver", "gallbladder", "unknown_primary"], 1),
    **dict.fromkeys(["colon", "melanoma", "sarcoma", "myeloma", "lymphoma", "other"], 2),
    **dict.fromkeys(["kidney", "uterus"], 3),
    "rectum": 4,
    **dict.fromkeys(["thyroid", "breast", "prostate", "carcinoid"], 5),
}
"""Revised Tokuhashi primary-site points per `primary_tumor` category (scores.md)."""

TOKUHASHI_VISCERAL_POINTS = {"unremovable": 0, "removable": 1, "none": 2}
TOKUHASHI_PALSY_POINTS = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2}

TOMITA_SLOW_GROWTH = ("breast", "prostate", "thyroid", "carcinoid")
TOMITA_MODERATE_GROWTH = ("kidney", "uterus", "myeloma", "lymphoma")
TOMITA_VISCERAL_POINTS = {"none": 0, "removable": 2, "unremovable": 4}

TOKUHASHI_SURVIVAL_CLASSES = ("<6m", "6-12m", ">=12m")
TOMITA_STRATEGY_CLASSES = (
    "wide_or_marginal_excision",
    "marginal_or_intralesional",
    "palliative",
    "supportive_care",
)


def _points(values: pd.Series, table: dict[str, int]) -> pd.Series:
    """Points per category as Float64 (NA where the value is missing or not in the table)."""
    mapped = values.astype(object).map(table)
    return pd.to_numeric(mapped, errors="coerce").astype("Float64")


Bands = Callable[[np.ndarray], list[np.ndarray]]
"""Boolean conditions on a float array, one per band, in the order of their points."""


def _banded(values: pd.Series, bands: Bands, points: list[int]) -> pd.Series:
    """Points of the first band a value falls in; NA where it is missing or in no band."""
    number = pd.to_numeric(values, errors="coerce").astype("Float64")
    filled = number.to_numpy(dtype=float, na_value=np.nan)
    chosen = np.select(bands(filled), points, default=-1)
    result = pd.Series(chosen, index=values.index, dtype="Float64")
    return result.mask(number.isna() | (result < 0))


def tokuhashi_revised(df: pd.DataFrame) -> pd.Series:
    """Revised Tokuhashi score (0–15) per row; Int16, null when any of its six items is unknown.

    Source: Tokuhashi et al., Spine 2005;30:2186, as tabulated in NICE CG75 appendix 3,
    per scores.md.

    Notes:
        KPS 0 counts as 0 points (as 10–40). A vertebral metastasis count below 1 or a
        negative extraspinal count scores nothing, so the total is null: the schema
        rejects such rows anyway.
    """
    items = [
        _banded(df["kps_preop"], _kps_bands, [0, 1, 2]),
        _banded(df["extraspinal_bone_mets_n"], lambda x: [x >= 3, x >= 1, x == 0], [0, 1, 2]),
        _banded(df["vertebral_mets_n"], lambda x: [x >= 3, x == 2, x == 1], [0, 1, 2]),
        _points(df["visceral_mets"], TOKUHASHI_VISCERAL_POINTS),
        _points(df["primary_tumor"], TOKUHASHI_PRIMARY_POINTS),
        _points(df["frankel_preop"], TOKUHASHI_PALSY_POINTS),
    ]
    return _total(items, df.index, "tokuhashi_revised")


def _kps_bands(kps: np.ndarray) -> list[np.ndarray]:
    return [(kps >= 0) & (kps <= 40), (kps > 40) & (kps <= 70), (kps > 70) & (kps <= 100)]


def tomita(df: pd.DataFrame) -> pd.Series:
    """Tomita score (2–10) per row; Int16, null when any of its three items is unknown.

    Source: Tomita K, Kawahara N, Kobayashi T, Yoshida A, Murakami H, Akamaru T.
    Surgical strategy for spinal metastases. Spine 2001;26(3):298–306, its prognostic
    scoring system: primary tumor slow growth 1, moderate 2, rapid 4; visceral
    metastases none 0, treatable 2, untreatable 4; bone metastases (spine included)
    solitary 1, multiple 2; total 2–3 wide or marginal excision, 4–5 marginal or
    intralesional, 6–7 palliative, 8–10 non-operative supportive care. scores.md agrees
    with it point for point. The paper's full text was not available where this was
    written: the comparison is with its system as the spine literature reproduces it,
    so confirm it against the paper's own figure before relying on it.

    Notes:
        The paper names example sites per growth group only (slow: breast, thyroid,
        prostate; moderate: kidney, uterus; rapid: lung, stomach, liver, ...); the
        categories it does not name are placed as scores.md fixes: carcinoid slow,
        myeloma and lymphoma moderate, every other category (unknown primary included)
        rapid. "Removable" visceral metastases are the paper's "treatable" ones.
    """
    primary = df["primary_tumor"].astype(object)
    growth = pd.Series(
        np.select(
            [primary.isin(TOMITA_SLOW_GROWTH), primary.isin(TOMITA_MODERATE_GROWTH)], [1, 2], 4
        ),
        index=df.index,
        dtype="Float64",
    ).mask(primary.isna())
    bones = pd.to_numeric(df["vertebral_mets_n"], errors="coerce").astype("Float64") + (
        pd.to_numeric(df["extraspinal_bone_mets_n"], errors="coerce").astype("Float64")
    )
    items = [
        growth,
        _points(df["visceral_mets"], TOMITA_VISCERAL_POINTS),
        _banded(bones, lambda x: [x == 1, x >= 2], [1, 2]),
    ]
    return _total(items, df.index, "tomita")


def _total(items: list[pd.Series], index: pd.Index, name: str) -> pd.Series:
    total = pd.concat(items, axis=1).sum(axis=1, min_count=len(items), skipna=False)
    return pd.Series(total, index=index, name=name).astype("Int16")


def tokuhashi_survival_class(score: pd.Series) -> pd.Series:
    """Predicted survival of a revised Tokuhashi score: 0–8 `<6m`, 9–11 `6-12m`, 12–15 `>=12m`."""
    return _classify(score, [0, 9, 12, 16], TOKUHASHI_SURVIVAL_CLASSES)


def tomita_strategy_class(score: pd.Series) -> pd.Series:
    """Suggested strategy of a Tomita score: 2–3, 4–5, 6–7, 8–10 (see TOMITA_STRATEGY_CLASSES)."""
    return _classify(score, [2, 4, 6, 8, 11], TOMITA_STRATEGY_CLASSES)


def _classify(score: pd.Series, edges: list[int], labels: tuple[str, ...]) -> pd.Series:
    """Ordered categories of integer scores in [edges[i], edges[i+1]); null outside or missing."""
    number = pd.to_numeric(score, errors="coerce").astype("Float64").astype(float)
    classes = pd.Series(
        pd.cut(number, bins=edges, right=False, labels=list(labels), ordered=True),
        index=score.index,
    )
    classes.name = score.name
    return classes
