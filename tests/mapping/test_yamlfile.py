"""read_yaml gives yaml.safe_load's data and yaml.compose's node tree, from one parse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spinemet_etl.mapping.yamlfile import YamlFileError, locate, read_yaml

TEXTS = {
    "plain": "center_id: milano\ntables:\n  - name: patients\n    columns:\n      sex: Sesso\n",
    "merge-key": (
        "base: &base\n  sex: Sesso\n  age: Eta\n"
        "tables:\n  - name: patients\n    columns:\n      <<: *base\n      age: Anni\n"
    ),
    "empty": "",
    "scalars": "a: 1.5\nb: 2026-01-02\nc: ~\nd: [yes, 'no', 0x1f]\n",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_data_and_tree_as_yaml_gives_them(tmp_path: Path, name: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(TEXTS[name], encoding="utf-8")
    data, root = read_yaml(path)
    assert data == yaml.safe_load(TEXTS[name])
    expected = yaml.compose(TEXTS[name], Loader=yaml.SafeLoader)
    assert (root is None) == (expected is None)
    if root is not None:
        locs: list[list[str | int]] = [["tables", 0, "columns", "sex"], ["a"]]
        for loc in locs:
            assert locate(root, loc) == locate(expected, loc)


def test_merged_key_points_at_the_mapping_it_is_merged_into(tmp_path: Path) -> None:
    """`sex` comes from the anchor: its line is the mapping's, not the anchor's."""
    path = tmp_path / "m.yaml"
    path.write_text(TEXTS["merge-key"], encoding="utf-8")
    _data, root = read_yaml(path)
    line, _path = locate(root, ["tables", 0, "columns", "sex"])
    assert line != 2


def test_invalid_yaml_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("a: 1\nb: [unclosed\n", encoding="utf-8")
    with pytest.raises(YamlFileError) as caught:
        read_yaml(path)
    assert caught.value.line is not None and caught.value.line >= 2
