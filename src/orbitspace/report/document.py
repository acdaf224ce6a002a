"""``Report``: build a self-contained HTML report and its ``metrics.json`` step by step."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from orbitspace._io import atomic_write_text, to_jsonable, write_json_atomic
from orbitspace.report._html import markdown_to_html, page_html, slug, table_html

__all__ = ["Report"]


class Report:
    """A report: sections of text, tables and figures, a verdict, and the metrics behind them.

    The page is one HTML file with inline CSS and figures embedded as base64 PNG: it opens
    from disk in any browser, without a server or network.  Every number shown should also
    be put in :attr:`metrics` (written to ``metrics.json`` next to the page).

    Parameters
    ----------
    title : str
        Page title.
    subtitle : str
        One line under the title (markdown subset allowed).

    Examples
    --------
    >>> import tempfile
    >>> rep = Report("Rotated MNIST", "C8 regular fields")
    >>> rep.section("Probe accuracy").table([{"codes": "raw", "accuracy": 0.61}])
    <Report 'Rotated MNIST': 1 section(s)>
    >>> rep.add_metrics("probe", {"raw": {"accuracy": 0.61}})
    >>> rep.verdict("Use **sort**.")
    >>> path = rep.write(tempfile.mkdtemp())
    >>> path.name
    'report.html'
    """

    def __init__(self, title: str, subtitle: str = "") -> None:
        if not isinstance(title, str) or not title.strip():
            raise TypeError(f"title must be a non-empty string; received {title!r}")
        self.title = title
        self.subtitle = subtitle
        self.metrics: dict[str, Any] = {}
        self._sections: list[tuple[str, list[str]]] = []
        self._verdict: str | None = None
        self._n_figures = 0

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {len(self._sections)} section(s)>"

    # -- content -----------------------------------------------------------------------------
    def _blocks(self) -> list[str]:
        if not self._sections:
            self._sections.append(("", []))
        return self._sections[-1][1]

    def section(self, title: str) -> Report:
        """Start a new section; the following text, tables and figures go into it."""
        self._sections.append((str(title), []))
        return self

    def text(self, text: str) -> Report:
        """Add a paragraph (plain text or a markdown subset: bold, italic, code, lists, links)."""
        self._blocks().append(markdown_to_html(str(text)))
        return self

    def html(self, fragment: str) -> Report:
        """Add a raw HTML fragment (it must refer to no external resource)."""
        self._blocks().append(str(fragment))
        return self

    def table(
        self,
        rows: Sequence[dict],
        caption: str | None = None,
        columns: Sequence[str] | None = None,
        float_format: str = "{:.3g}",
    ) -> Report:
        """Add a table: one dict per row; ``columns`` chooses and orders the keys shown.

        Floats are formatted with ``float_format``; ``None`` and NaN show as a dash.
        """
        rows = list(rows)
        if any(not isinstance(r, dict) for r in rows):
            raise TypeError("table rows must be dicts mapping column name to value")
        self._blocks().append(
            table_html(rows, caption=caption, columns=columns, float_format=float_format)
        )
        return self

    def figure(self, fig: Any, caption: str | None = None, *, dpi: int = 150) -> Report:
        """Embed a matplotlib figure as a base64 PNG and close it.

        The image is shown at the figure's size in CSS pixels (96 per inch) and rendered at
        ``dpi`` for sharp display on high-density screens.
        """
        if not hasattr(fig, "savefig"):
            raise TypeError(f"figure expects a matplotlib Figure; received {type(fig).__name__}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight")
        width_in, _ = fig.get_size_inches()
        self._close(fig)
        data = buf.getvalue()
        width_px = _png_width(data)
        css_width = int(round(width_px * 96 / dpi)) if width_px else int(width_in * 96)
        self._n_figures += 1
        alt = html.escape(caption or f"figure {self._n_figures}", quote=True)
        encoded = base64.b64encode(data).decode("ascii")
        cap = f"<figcaption>{_caption(caption)}</figcaption>" if caption else ""
        self._blocks().append(
            f'<figure><img alt="{alt}" width="{css_width}" '
            f'src="data:image/png;base64,{encoded}">{cap}</figure>'
        )
        return self

    @staticmethod
    def _close(fig: Any) -> None:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(fig)

    def verdict(self, text: str) -> None:
        """Set the verdict, shown in a box at the top of the page and saved in metrics."""
        self._verdict = str(text)
        self.metrics["verdict"] = self._verdict

    def add_metrics(self, key: str | Sequence[str], value: Any) -> None:
        """Put ``value`` at ``key`` in :attr:`metrics` (a tuple/list key is a nested path).

        Dicts merge into an existing dict at the same place.
        """
        path = [key] if isinstance(key, str) else list(key)
        if not path:
            raise ValueError("add_metrics needs a non-empty key")
        node = self.metrics
        for part in path[:-1]:
            node = node.setdefault(str(part), {})
            if not isinstance(node, dict):
                raise ValueError(f"metrics at {path} is not a dict; cannot nest under it")
        last = str(path[-1])
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            _merge(node[last], value)
        else:
            node[last] = value

    # -- output ------------------------------------------------------------------------------
    def to_html(self) -> str:
        """The page as a string."""
        taken: set[str] = set()
        toc: list[tuple[str, str]] = []
        parts: list[str] = []
        if self._verdict:
            ident = slug("verdict", taken)
            toc.append((ident, "Verdict"))
            parts.append(
                f'<div class="verdict" id="{ident}"><h2>Verdict</h2>'
                f"{markdown_to_html(self._verdict)}</div>"
            )
        for title, blocks in self._sections:
            ident = slug(title or "notes", taken)
            if title:
                toc.append((ident, title))
            heading = f"<h2>{html.escape(title)}</h2>" if title else ""
            parts.append(f'<section id="{ident}">{heading}\n' + "\n".join(blocks) + "</section>")
        from orbitspace import __version__

        stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        footer = (
            f"Made with orbitspace {html.escape(__version__)} on {html.escape(stamp)}. "
            "Every number on this page is in <code>metrics.json</code> next to it."
        )
        return page_html(self.title, self.subtitle, toc, "\n".join(parts), footer)

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write ``report.html`` and ``metrics.json`` into ``out_dir`` (created if needed).

        Both files are written atomically.  Returns the path of ``report.html``.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        page = self.to_html()
        metrics = to_jsonable(self.metrics)
        write_json_atomic(out / "metrics.json", metrics)
        return atomic_write_text(out / "report.html", page)


def _merge(into: dict, new: dict) -> None:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _caption(text: str) -> str:
    return markdown_to_html(text).removeprefix("<p>").removesuffix("</p>")


def _png_width(data: bytes) -> int | None:
    # PNG: 8-byte signature, then the IHDR chunk whose first field is the width (big endian)
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big")
