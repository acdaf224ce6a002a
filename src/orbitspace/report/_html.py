"""HTML pieces of the report: a small markdown subset, tables, the page and its inline CSS.

Everything here returns strings; nothing refers to a file or a network resource.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["markdown_to_html", "table_html", "format_cell", "page_html", "slug"]

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*)\*(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"\[([^\]]+)\]\((#[\w\-]+|https?://[^\s)]+)\)"), r'<a href="\2">\1</a>'),
]


def _inline(text: str) -> str:
    # code spans are cut out first (their content is literal), the rest escaped and styled
    codes: list[str] = []

    def stash(match: re.Match) -> str:
        codes.append(f"<code>{html.escape(match.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    s = html.escape(re.sub(r"`([^`]+)`", stash, text), quote=False)
    for pattern, repl in _INLINE[1:]:
        s = pattern.sub(repl, s)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], s)


def _li(text: str) -> str:
    return f"<li>{_inline(text)}</li>"


def markdown_to_html(text: str) -> str:
    """Render a small markdown subset: paragraphs, ``-``/``1.`` lists, bold, italic, code, links.

    Plain text is escaped and kept as paragraphs.

    Examples
    --------
    >>> markdown_to_html("Use **sort**: error `0`.")
    '<p>Use <strong>sort</strong>: error <code>0</code>.</p>'
    """
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        lines = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        if all(re.match(r"\s*[-*] ", ln) for ln in lines):
            items = "".join(_li(re.sub(r"^\s*[-*] ", "", ln)) for ln in lines)
            blocks.append(f"<ul>{items}</ul>")
        elif all(re.match(r"\s*\d+[.)] ", ln) for ln in lines):
            items = "".join(_li(re.sub(r"^\s*\d+[.)] ", "", ln)) for ln in lines)
            blocks.append(f"<ol>{items}</ol>")
        elif lines[0].startswith("    ") or lines[0].startswith("$ "):
            code = textwrap.dedent("\n".join(lines))
            blocks.append(f"<pre>{html.escape(code)}</pre>")
        else:
            blocks.append(f"<p>{_inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "\n".join(blocks)


def format_cell(value: Any, float_format: str = "{:.3g}") -> tuple[str, bool]:
    """Return ``(text, is_numeric)`` for one table cell."""
    if value is None:
        return "—", True
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}".replace(",", "\u2009"), True
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return ("—" if math.isnan(v) else ("∞" if v > 0 else "−∞")), True
        return float_format.format(v).replace("-", "−"), True
    return str(value), False


def table_html(
    rows: Sequence[dict],
    *,
    caption: str | None = None,
    columns: Sequence[str] | None = None,
    float_format: str = "{:.3g}",
) -> str:
    """An HTML table from a list of dicts (one per row); numeric columns right-aligned."""
    if columns is None:
        columns = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text, numeric = format_cell(row.get(c), float_format)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{_inline(caption)}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def slug(text: str, taken: set[str]) -> str:
    """A unique HTML id made from ``text``."""
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    taken.add(name)
    return name


_CSS = """
:root { --ink:#1d2430; --muted:#5b6575; --line:#dde2ea; --accent:#0b6bcb; --bg:#fbfcfe;
  --card:#ffffff; --good:#0f7b4d; --verdict:#eef6ff; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.top { background:#16243a; color:#f3f6fb; padding:28px 0 22px; }
header.top .wrap { display:block; }
header.top h1 { margin:0 0 4px; font-size:26px; font-weight:650; letter-spacing:-0.01em; }
header.top p.subtitle { margin:0; color:#b9c6da; font-size:15px; }
header.top code { background:#24364f; color:#e3ebf7; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 28px; }
nav.toc { margin:18px 0 0; font-size:13px; }
nav.toc a { color:#cfe0ff; text-decoration:none; margin-right:16px; white-space:nowrap; }
nav.toc a:hover { text-decoration:underline; }
main { padding: 8px 0 40px; }
section { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding: 6px 24px 18px; margin: 22px 0; box-shadow: 0 1px 2px rgba(20,30,50,.04); }
h2 { font-size:19px; margin:16px 0 8px; font-weight:650; }
h3 { font-size:16px; margin:14px 0 6px; }
p, li { max-width: 80ch; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background:#f1f4f8; padding:1px 5px; border-radius:4px; }
pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background:#f1f4f8; padding:10px 12px; border-radius:6px; overflow-x:auto; }
.verdict { background:var(--verdict); border:1px solid #b8d6fb; border-left:5px solid var(--accent);
  border-radius:10px; padding:6px 22px 10px; margin:22px 0; }
.verdict h2 { color:#0a4f98; }
.table-wrap { overflow-x:auto; margin: 10px 0 14px; }
table { border-collapse: collapse; font-size: 13.5px; min-width: 40%; }
caption { caption-side: top; text-align:left; color:var(--muted); font-size:13px; padding:0 0 6px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align:left;
  vertical-align: top; }
th { font-weight:600; background:#f5f7fa; border-bottom: 2px solid #cfd6e0; white-space: nowrap; }
td.num { text-align:right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:hover { background:#f8fafc; }
figure { margin: 14px 0 18px; }
figure img { display:block; max-width:100%; height:auto; border:1px solid var(--line);
  border-radius:6px; background:#fff; }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; max-width: 90ch; }
footer { color:var(--muted); font-size:12.5px; padding: 0 0 30px; }
@media print { section { box-shadow:none; break-inside: avoid; } header.top { background:#fff;
  color:#000; } nav.toc { display:none; } }
"""


def page_html(
    title: str, subtitle: str, toc: Sequence[tuple[str, str]], body: str, footer: str
) -> str:
    """The whole self-contained page."""
    nav = "".join(f'<a href="#{ident}">{html.escape(name)}</a>' for ident, name in toc)
    nav_html = f'<nav class="toc">{nav}</nav>' if len(toc) > 1 else ""
    sub = f'<p class="subtitle">{_inline(subtitle)}</p>' if subtitle else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="orbitspace">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header class="top"><div class="wrap"><h1>{html.escape(title)}</h1>{sub}{nav_html}'
        "</div></header>\n"
        f'<main><div class="wrap">\n{body}\n</div></main>\n'
        f'<footer><div class="wrap">{footer}</div></footer>\n'
        "</body>\n</html>\n"
    )
