"""mypy accepts the typed model API (tests/typing) and the examples."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent.parent


def test_mypy_passes_on_typing_tests_and_examples() -> None:
    targets = [str(ROOT / "tests" / "typing"), str(ROOT / "examples")]
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *targets],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
