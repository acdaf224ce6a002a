"""The analysis report in a real headless browser: every figure decodes, nothing is fetched.

Needs Chromium (``apt-get install chromium``; ``.ci/run`` installs it).  Skips with a message
where no browser exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from orbitspace.report import Report
from orbitspace.report.analysis import add_analysis_to_report, analyze_latents

pytestmark = pytest.mark.browser

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHECK_SCRIPT = """
<script>
window.addEventListener("load", () => {
  // after "load" every image has been fetched and decoded, or has failed (naturalWidth 0)
  const imgs = Array.from(document.images);
  const decoded = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0);
  const fetched = performance.getEntriesByType("resource").map(e => e.name)
      .filter(n => !n.startsWith("data:"));
  const marker = document.createElement("pre");
  marker.id = "orbitspace-check";
  marker.textContent = "ORBIT" + "CHECK:" + JSON.stringify({
    images: imgs.length, decoded: decoded.length,
    widths: imgs.map(i => i.naturalWidth), fetched: fetched,
    sections: document.querySelectorAll("section").length}) + ":" + "END";
  document.body.appendChild(marker);
});
</script>
"""


def _browser():
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "no headless browser found (looked for chromium, chromium-browser, google-chrome); "
        "install Debian's chromium (apt-get install chromium) to run the report browser test"
    )


def _run(browser, tmp_path, *args):
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    from orbitspace import SO2

    action = SO2("1x0 + 2x1 + 1x2")
    rng = np.random.default_rng(0)
    labels = np.arange(80) % 4
    base = 2 * rng.normal(size=(4, action.dim))[labels] + 0.3 * rng.normal(size=(80, action.dim))
    X = action.act(action.sample(80, random_state=1), base)
    res = analyze_latents(
        X,
        action,
        labels=labels,
        targets=np.linalg.norm(base, axis=1),
        methods=["norms", "align_to_reference(n_references=2)"],
        quick=True,
        maps=("pca", "tsne"),
        progress=False,
    )
    rep = Report("Browser check", "SO(2) latents")
    add_analysis_to_report(rep, res)
    out = tmp_path_factory.mktemp("report")
    rep.write(out)
    return out


def test_every_figure_renders_and_nothing_is_fetched(report_dir, tmp_path):
    browser = _browser()
    html = (report_dir / "report.html").read_text()
    n_img = html.count("<img ")
    assert n_img >= 6  # invariance, distortion, 2 probe charts, 2 maps
    checked = tmp_path / "check.html"
    checked.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"))
    proc = _run(browser, tmp_path, "--virtual-time-budget=20000", "--dump-dom", checked.as_uri())
    match = re.search(r"ORBITCHECK:(\{.*?\}):END", proc.stdout, re.S)
    assert match, f"the check script did not run; browser stderr: {proc.stderr[-2000:]}"
    result = json.loads(match.group(1))
    assert result["images"] == n_img
    assert result["decoded"] == n_img, result
    assert all(w > 100 for w in result["widths"])
    assert result["fetched"] == []  # self-contained: no file, font or script loaded
    assert result["sections"] >= 6


def test_screenshot_is_not_blank(report_dir, tmp_path):
    browser = _browser()
    shot = tmp_path / "shot.png"
    proc = _run(
        browser,
        tmp_path,
        "--window-size=1280,2400",
        f"--screenshot={shot}",
        (report_dir / "report.html").as_uri(),
    )
    assert shot.exists(), proc.stderr[-2000:]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    assert img.shape[:2] == (2400, 1280)
    # the page has content: many distinct colours, not a single background colour
    assert len(np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50


def test_the_check_catches_a_broken_image(report_dir, tmp_path):
    """The check itself is tested: one corrupted figure must show up as not decoded."""
    browser = _browser()
    html = (report_dir / "report.html").read_text()
    n_img = html.count("<img ")
    broken = html.replace("base64,iVBOR", "base64,AAAA", 1)
    checked = tmp_path / "broken.html"
    checked.write_text(broken.replace("</body>", CHECK_SCRIPT + "</body>"))
    proc = _run(browser, tmp_path, "--virtual-time-budget=20000", "--dump-dom", checked.as_uri())
    result = json.loads(re.search(r"ORBITCHECK:(\{.*?\}):END", proc.stdout, re.S).group(1))
    assert result["images"] == n_img and result["decoded"] == n_img - 1
