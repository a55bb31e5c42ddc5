"""Draft a center's mapping file and profile from its landing folder (no data is written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spinemet_etl.mapping.draft import Draft, build_draft
from spinemet_etl.mapping.draft_yaml import draft_yaml
from spinemet_etl.mapping.profile_center import CenterProfile, profile_center
from spinemet_etl.mapping.profile_md import profile_markdown


@dataclass(frozen=True)
class DraftOutput:
    """The draft mapping file's text, the profile's Markdown, and what they were built from."""

    mapping_yaml: str
    profile_md: str
    draft: Draft
    profile: CenterProfile


def draft_center(folder: Path, mapping_dir: Path, center_id: str | None = None) -> DraftOutput:
    """Profile every export in `folder` and draft its mapping with `mapping_dir`'s vocabularies.

    `center_id` defaults to the folder's name. Files a reader refuses are named in the
    profile (`problems`), never guessed at.
    """
    profile = profile_center(folder, center_id or folder.name)
    draft = build_draft(profile, mapping_dir)
    return DraftOutput(draft_yaml(draft), profile_markdown(profile, draft), draft, profile)


def profile_path(out: Path | None, center_id: str) -> Path:
    """Where the profile goes: `<out stem>.profile.md` beside --out, else `<center>.profile.md`."""
    return out.with_name(f"{out.stem}.profile.md") if out else Path(f"{center_id}.profile.md")
