"""The README's example runs and prints what the README says it prints."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).parent.parent / "README.md"


def test_readme_example_runs() -> None:
    text = README.read_text()
    example = re.search(r"## A first example\n\n```python\n(.*?)```", text, re.S)
    assert example is not None
    out = subprocess.run(
        [sys.executable, "-c", example.group(1)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["['Bob', 'Alice'] 2", "['Alice']"]
