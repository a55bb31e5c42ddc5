"""docs/contract/ is a byte-identical copy of the spec folder `../shared/spec/`, when it is there.

CI checks the project out beside `shared/`; a clone on its own has only the copy, and
this test skips (CI turns that skip into a failure, see tests/conftest.py).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COPY = REPO / "docs" / "contract"
SPEC = REPO.parent / "shared" / "spec"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _first_lines_of_diff(name: str) -> str:
    diff = difflib.unified_diff(
        (SPEC / name).read_text(encoding="utf-8", errors="replace").splitlines(),
        (COPY / name).read_text(encoding="utf-8", errors="replace").splitlines(),
        f"{SPEC}/{name}", f"docs/contract/{name}", lineterm="", n=1,
    )  # fmt: skip
    return "\n".join(list(diff)[:20])


def test_the_copy_holds_the_contract() -> None:
    assert {"README.md", "canonical-schema.md", "endpoints.md", "layout.md"} <= set(_files(COPY))


def test_the_copy_equals_the_spec_beside_the_checkout() -> None:
    if not SPEC.is_dir():
        pytest.skip(f"no spec folder beside the checkout ({SPEC}): nothing to compare the copy to")
    spec, copy = _files(SPEC), _files(COPY)
    assert sorted(copy) == sorted(spec), "docs/contract/ must hold exactly the spec's files"
    differing = [name for name in spec if spec[name] != copy[name]]
    assert not differing, (
        f"docs/contract/ differs from {SPEC} in {differing}; copy the spec again "
        f"(cp {SPEC}/* docs/contract/):\n" + _first_lines_of_diff(differing[0])
    )
