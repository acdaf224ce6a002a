"""The Report document and the atomic writers: self-contained HTML, metrics.json, escaping,
atomicity on failure."""

from __future__ import annotations

import base64
import json
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from orbitspace._io import (
    atomic_write_text,
    save_npy_atomic,
    staged_dir,
    to_jsonable,
    write_json_atomic,
)
from orbitspace.report import Report
from orbitspace.report._html import markdown_to_html


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.imgs, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href"):
                self.refs.append((tag, k, v))
        if tag == "img":
            self.imgs.append(dict(attrs))


def _figure():
    from orbitspace.plot import new_figure

    fig = new_figure(figsize=(3, 2))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


def test_report_is_self_contained_and_metrics_written(tmp_path):
    rep = Report("Title <b>", "sub `code`")
    rep.section("One").text("Some **bold** and <script>alert(1)</script>")
    rep.table(
        [{"a": 1, "b": 0.123456, "c": None, "d": "x"}, {"a": 2, "b": float("nan")}],
        caption="cap",
        float_format="{:.2f}",
    )
    rep.figure(_figure(), "a *figure*")
    rep.section("Two").text("- item one\n- item two")
    rep.add_metrics("score", np.float32(0.5))
    rep.add_metrics(("nested", "deep"), {"x": np.arange(3)})
    rep.add_metrics(("nested", "deep"), {"y": 1})
    rep.verdict("Use **this**.")
    path = rep.write(tmp_path / "out")
    html = path.read_text()
    parser = _Refs()
    parser.feed(html)
    # no external reference at all: images are data URIs, links are anchors
    for _tag, _attr, value in parser.refs:
        assert value.startswith("data:image/png;base64,") or value.startswith("#"), value
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "&lt;script&gt;" in html and "Title &lt;b&gt;" in html
    # the figure is a real PNG whose CSS width follows its pixel width
    (img,) = parser.imgs
    png = base64.b64decode(img["src"].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width_px = int.from_bytes(png[16:20], "big")
    assert int(img["width"]) == round(width_px * 96 / 150)
    # table cells: formatted floats, dashes for None / NaN, numbers right-aligned
    assert (
        '<td class="num">0.12</td>' in html and html.count(">—<") == 4
    )  # None, NaN and two missing keys
    # sections in the table of contents, verdict first
    assert re.findall(r'<a href="#([\w-]+)">', html) == ["verdict", "one", "two"]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics == {
        "score": 0.5,
        "nested": {"deep": {"x": [0, 1, 2], "y": 1}},
        "verdict": "Use **this**.",
    }


def test_markdown_subset():
    assert markdown_to_html("a *b* `c<d>`") == "<p>a <em>b</em> <code>c&lt;d&gt;</code></p>"
    assert markdown_to_html("1. x\n2. y") == "<ol><li>x</li><li>y</li></ol>"
    assert (
        markdown_to_html("run:\n\n    $ cmd --x\n      --y")
        == "<p>run:</p>\n<pre>$ cmd --x\n  --y</pre>"
    )
    assert '<a href="#top">' in markdown_to_html("[up](#top)")
    assert "href" not in markdown_to_html("[x](javascript:alert(1))")


def test_report_rejects_bad_input():
    with pytest.raises(TypeError):
        Report("")
    with pytest.raises(TypeError, match="matplotlib Figure"):
        Report("t").figure("not a figure")
    with pytest.raises(TypeError, match="dicts"):
        Report("t").table([1, 2])


def test_to_jsonable():
    assert to_jsonable({1: np.int64(2), "f": np.float64("nan"), "t": (np.bool_(True),)}) == {
        "1": 2,
        "f": None,
        "t": [True],
    }


def test_atomic_writes_keep_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "m.json"
    write_json_atomic(target, {"a": 1})

    def fail(*args, **kw):
        raise OSError("boom")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["m.json"]  # the temporary file was removed
    monkeypatch.undo()
    save_npy_atomic(tmp_path / "x.npy", np.arange(3))
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), np.arange(3))
    with pytest.raises(ValueError):  # a failing conversion writes nothing
        write_json_atomic(tmp_path / "bad.json", {"x": float("inf"), "y": _Unserialisable()})
    assert not (tmp_path / "bad.json").exists()


class _Unserialisable:
    def to_dict(self):
        raise ValueError("cannot serialise")


def test_staged_dir(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(RuntimeError):
        with staged_dir(out) as tmp:
            (tmp / "f.txt").write_text("x")
            raise RuntimeError("fail")
    assert list(tmp_path.iterdir()) == []  # the parents it created are gone too
    with staged_dir(out) as tmp:
        (tmp / "f.txt").write_text("x")
        assert not out.exists()  # nothing visible before the end
    assert (out / "f.txt").read_text() == "x"
    assert oct(out.stat().st_mode & 0o777) != oct(0o700) or os.umask(0o022) == 0o077
    with staged_dir(out) as tmp:  # an existing folder: files replaced one by one
        (tmp / "f.txt").write_text("y")
    assert (out / "f.txt").read_text() == "y"
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]
