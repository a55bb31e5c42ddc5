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


def _numbers(values: pd.Series) -> np.ndarray:
    """Values as float64, NaN where missing or not a number."""
    number = pd.to_numeric(values, errors="coerce")
    if isinstance(number.dtype, pd.api.extensions.ExtensionDtype):
        return number.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(number, dtype=float)


def _points(values: pd.Series, table: dict[str, int]) -> np.ndarray:
    """Points per category, looked up once per distinct value (NaN if missing or not in table)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    lookup = np.array([*(table.get(value, np.nan) for value in uniques), np.nan], dtype=float)
    return lookup[codes]


Bands = Callable[[np.ndarray], list[np.ndarray]]
"""Boolean conditions on a float array, one per band, in the order of their points."""


def _banded(number: np.ndarray, bands: Bands, points: list[int]) -> np.ndarray:
    """Points of the first band a value falls in; NaN where it is missing or in no band."""
    chosen = np.select(bands(number), points, default=-1).astype(float)
    chosen[np.isnan(number) | (chosen < 0)] = np.nan
    return chosen


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
        _banded(_numbers(df["kps_preop"]), _kps_bands, [0, 1, 2]),
        _banded(
            _numbers(df["extraspinal_bone_mets_n"]), lambda x: [x >= 3, x >= 1, x == 0], [0, 1, 2]
        ),
        _banded(_numbers(df["vertebral_mets_n"]), lambda x: [x >= 3, x == 2, x == 1], [0, 1, 2]),
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
    primary = df["primary_tumor"]
    growth = np.select(
        [primary.isin(TOMITA_SLOW_GROWTH), primary.isin(TOMITA_MODERATE_GROWTH)], [1.0, 2.0], 4.0
    )
    growth[primary.isna().to_numpy()] = np.nan
    bones = _numbers(df["vertebral_mets_n"]) + _numbers(df["extraspinal_bone_mets_n"])
    items = [
        growth,
        _points(df["visceral_mets"], TOMITA_VISCERAL_POINTS),
        _banded(bones, lambda x: [x == 1, x >= 2], [1, 2]),
    ]
    return _total(items, df.index, "tomita")


def _total(items: list[np.ndarray], index: pd.Index, name: str) -> pd.Series:
    """The items' sum per row, null when any item is (NaN propagates through the sum)."""
    total = np.sum(items, axis=0) if items else np.zeros(len(index))
    unknown = np.isnan(total)
    points = np.where(unknown, 0, total).astype(np.int16)
    return pd.Series(pd.arrays.IntegerArray(points, unknown), index=index, name=name)


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
