"""Obviously fake direct identifiers: names, record numbers, birth dates, addresses, phones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

FAKE_SUFFIX = "-Synth"


@dataclass(frozen=True)
class IdentityStyle:
    """How one center writes identifiers: name pools, record-number shape, address, phone."""

    first_names_male: tuple[str, ...]
    first_names_female: tuple[str, ...]
    surnames: tuple[str, ...]
    record_prefix: str
    record_digits: int
    street: str
    city: str
    phone_prefix: str


STYLES: dict[str, IdentityStyle] = {
    "bologna": IdentityStyle(
        ("Marco", "Giuseppe", "Luca", "Paolo", "Franco", "Sergio"),
        ("Maria", "Anna", "Giulia", "Paola", "Rita", "Elena"),
        ("Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Gallo", "Conti", "Greco"),
        "BO",
        7,
        "Via Inventata",
        "40100 Bologna",
        "+39 051 555",
    ),
    "barcelona": IdentityStyle(
        ("Jordi", "Antonio", "Manuel", "Josep", "Javier", "Carlos"),
        ("Montserrat", "Carmen", "Núria", "Laura", "Marta", "Pilar"),
        ("García", "Martínez", "López", "Puig", "Ferrer", "Vidal", "Serra", "Roca"),
        "HC",
        8,
        "Carrer Inventat",
        "08000 Barcelona",
        "+34 93 555",
    ),
    "rotterdam": IdentityStyle(
        ("Jan", "Pieter", "Kees", "Willem", "Henk", "Bram"),
        ("Anna", "Maria", "Sanne", "Ingrid", "Els", "Femke"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Mulder"),
        "RD",
        7,
        "Verzonnenstraat",
        "3000 AA Rotterdam",
        "+31 10 555",
    ),
    "muenchen": IdentityStyle(
        ("Jürgen", "Klaus", "Günter", "Stefan", "Thomas", "Wolfgang"),
        ("Ursula", "Sabine", "Monika", "Jutta", "Brigitte", "Käthe"),
        ("Müller", "Schmidt", "Schneider", "Weiß", "Groß", "Bäcker", "Hoffmann", "Krämer"),
        "0",
        8,
        "Erfundene Straße",
        "80000 München",
        "+49 89 555",
    ),
    "boston": IdentityStyle(
        ("John", "Michael", "Robert", "David", "James", "William"),
        ("Mary", "Patricia", "Linda", "Susan", "Karen", "Nancy"),
        ("Smith", "Johnson", "Brown", "O'Brien", "Sullivan", "Murphy", "Walsh", "Kelly"),
        "Z",
        7,
        "Fictional St",
        "Boston, MA 02100",
        "+1 617 555",
    ),
    "lyon": IdentityStyle(
        ("Jean", "Pierre", "Michel", "André", "François", "René"),
        ("Marie", "Françoise", "Hélène", "Cécile", "Monique", "Odile"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux", "Perrin"),
        "80",
        8,
        "Rue Imaginaire",
        "69000 Lyon",
        "+33 4 72 555",
    ),
}


def record_numbers(style: IdentityStyle, start: int, n: int) -> list[str]:
    """Hospital record numbers start+1 … start+n in the center's shape."""
    return [
        f"{style.record_prefix}{i:0{style.record_digits}d}" for i in range(start + 1, start + n + 1)
    ]


def add_identifiers(
    frame: pd.DataFrame, style: IdentityStyle, start: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Add `record_number`, names, `birth_date`, `address`, `phone` to a latent cohort.

    The birth date is consistent with the canonical age: surgery date minus
    round(age × 365.25) days, so an age derived from it is within a day of the truth.
    """
    n = len(frame)
    male = (frame["sex"] == "male").to_numpy()
    firsts = np.where(
        male,
        rng.choice(style.first_names_male, n),
        rng.choice(style.first_names_female, n),
    )
    surnames = rng.choice(style.surnames, n)
    age_days = np.round(frame["age_at_surgery_years"].to_numpy() * 365.25)
    out = frame.copy()
    out.insert(0, "record_number", record_numbers(style, start, n))
    out["first_name"] = firsts
    out["last_name"] = [f"{s}{FAKE_SUFFIX}" for s in surnames]
    out["birth_date"] = frame["surgery_date"] - pd.to_timedelta(age_days, unit="D")
    out["address"] = [f"{style.street} {k}, {style.city}" for k in rng.integers(1, 200, n)]
    out["phone"] = [f"{style.phone_prefix} {k:04d}" for k in rng.integers(0, 10000, n)]
    return out
