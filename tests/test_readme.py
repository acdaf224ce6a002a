"""The README's Python example runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert (
        float(
            namespace["osp"]
            .quotient_distance(namespace["x"], namespace["y"], namespace["rho"])
            .max()
        )
        < 1e-9
    )
    assert namespace["D"].shape == (100, 100)
    assert namespace["pipe"].fit_transform(namespace["x"]).shape == (100, 2)
