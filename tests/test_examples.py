"""The examples run as users run them."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).parent.parent


def test_quickstart_runs() -> None:
    """`make demo`: on SQLite, whatever MINORM_DATABASE_URL the caller has set."""
    env = {k: v for k, v in os.environ.items() if k != "MINORM_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert "Wrote migrations/versions/" in out.stdout
    assert "Running upgrade  -> " in out.stdout
    assert "created authors Alice (id 1) and Bob, and 3 posts" in out.stdout
    assert "published: 'Notes from Bob' by Bob" in out.stdout
    assert "transaction rolled back (changed my mind): 3 posts remain" in out.stdout
    assert "No changes: the models match the migrations." in out.stdout
