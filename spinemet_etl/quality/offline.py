"""Data Docs pages that load nothing from the network, as a hospital's closed network needs.

GX's pages fetch jQuery, Bootstrap, bootstrap-table, Vega and Font Awesome from CDNs, and
a logo from S3. Offline, a validation page still reads (its content is plain HTML), but
the index is empty: bootstrap-table draws its list of validations in the browser. So each
page is rewritten after GX builds it: remote scripts, stylesheets and images are dropped,
and every bootstrap-table is written out as a plain HTML table with the same rows.
Links to files the site does not hold (GX links each validation to an expectation-suite
page it never writes, and a favicon at a wrong depth) are dropped, their text kept.
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

_REMOTE_TAG = re.compile(
    r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']?(?:https?:)?//[^>]*>"""
    r"""(?:\s*</script>)?""",
    re.IGNORECASE,
)
_REMOTE_CSS_URL = re.compile(r"""url\(\s*["']?(?:https?:)?//[^)]*\)""", re.IGNORECASE)
_TABLE_SCRIPT = re.compile(
    r"<script>\s*\$\('#(?P<id>[\w-]+)'\)\.bootstrapTable\((?P<body>.*?)</script>", re.DOTALL
)
_LITERAL_LINE = r"^\s*{key}: (?P<literal>.*),\s*$"
_STATUS_ICON = re.compile(r'(<i class="[^"]*\bge-(?P<status>success|failed)-icon\b[^"]*"\s*>)</i>')
"""The index's status icons are Font Awesome's, which is not loaded: a word says it instead."""
_STATUS_WORDS = {"success": "passed", "failed": "failed"}
_ANCHOR = re.compile(
    r'<a\b[^>]*?\bhref="(?P<href>[^"#:]+)(?:#[^"]*)?"[^>]*>(?P<text>.*?)</a>', re.DOTALL
)
_LINK_TAG = re.compile(r'<link\b[^>]*?\bhref="(?P<href>[^"#:]+)"[^>]*>')


def make_offline(site: Path, pages: Iterable[Path] | None = None) -> None:
    """Rewrite every page under `site` (or `pages` of it) so that it works without a network."""
    for page in sorted(site.rglob("*.html") if pages is None else pages):
        text = page.read_text(encoding="utf-8")
        offline = without_dead_links(offline_page(text), page.parent)
        if offline != text:
            page.write_text(offline, encoding="utf-8")


def offline_page(text: str) -> str:
    """One page without remote resources, its bootstrap-tables written out as HTML."""
    for match in list(_TABLE_SCRIPT.finditer(text)):
        text = _write_out_table(text.replace(match[0], "", 1), match["id"], match["body"])
    text = _REMOTE_TAG.sub("", text)
    text = _STATUS_ICON.sub(lambda m: f"{m[1]}{_STATUS_WORDS[m['status']]}</i>", text)
    return _REMOTE_CSS_URL.sub("none", text)


def without_dead_links(text: str, folder: Path) -> str:
    """`text` without the relative links whose target is not a file beside `folder`:
    an anchor keeps its text, a `<link>` tag goes."""

    def dead(href: str) -> bool:
        return not (folder / unquote(href)).is_file()

    text = _ANCHOR.sub(lambda m: m["text"] if dead(m["href"]) else m[0], text)
    return _LINK_TAG.sub(lambda m: "" if dead(m["href"]) else m[0], text)


def _write_out_table(text: str, table_id: str, script_body: str) -> str:
    """`text` with the empty `<table id=table_id>` replaced by the rows its script held."""
    empty = re.search(rf'<table\s+id="{re.escape(table_id)}"[^>]*>\s*</table>', text)
    if empty is None:
        raise ValueError(f"Data Docs page: no empty table `{table_id}` for its bootstrap-table")
    return text[: empty.start()] + _static_table(table_id, script_body) + text[empty.end() :]


def _literal(body: str, key: str) -> Any:
    """The Python literal GX's template printed after `key:` (one line of the script)."""
    found = re.search(_LITERAL_LINE.format(key=key), body, re.MULTILINE)
    if found is None:
        raise ValueError(f"Data Docs page: no `{key}:` in a bootstrap-table script")
    return ast.literal_eval(found["literal"])


def _static_table(table_id: str, body: str) -> str:
    """The rows bootstrap-table would draw, newest run first, each cell linking to its page.

    Cell values are the HTML fragments GX rendered for bootstrap-table, kept as they are
    (a cell holding its own link keeps it).
    """
    columns: list[dict[str, Any]] = _literal(body, "columns")
    rows: list[dict[str, Any]] = _literal(body, "data")
    rows = sorted(rows, key=lambda row: -float(row.get("_run_time_sort") or 0))
    head = "".join(f"<th>{html.escape(str(c.get('title', '')))}</th>" for c in columns)
    lines = [f'<table id="{table_id}" class="table table-sm">', f"<thead><tr>{head}</tr></thead>"]
    lines.append("<tbody>")
    for row in rows:
        link = row.get("_table_row_link_path")
        cells = [str(row.get(c["field"], "")) for c in columns]
        if link:
            href = html.escape(str(link))
            cells = [cell if "<a " in cell else f'<a href="{href}">{cell}</a>' for cell in cells]
        lines.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)
