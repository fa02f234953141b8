"""The examples of docs/testing.md, on every backend: the DatabaseTestClient script, and the
pytest files run with pytester the way a user runs them."""

from __future__ import annotations

import pathlib
import runpy
import shutil

import aiosqlite
import asyncmy  # type: ignore[import-untyped]  # no type information published
import asyncpg
import pytest

# In-process pytester runs drop the modules they imported afterwards; the drivers' C extensions
# cannot be imported twice into one process, so they are imported here, once, for good.
DRIVERS = (aiosqlite, asyncmy, asyncpg)

EXAMPLES = pathlib.Path(__file__).parent.parent.parent / "docs" / "examples"
PYTEST_EXAMPLES = sorted(EXAMPLES.glob("testing_test_*.py"))


def test_there_are_pytest_examples() -> None:
    assert [p.name for p in PYTEST_EXAMPLES] == [
        "testing_test_assertions.py",
        "testing_test_isolation.py",
    ]


@pytest.mark.parametrize("example", PYTEST_EXAMPLES, ids=lambda p: p.stem)
def test_pytest_example(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    example: pathlib.Path,
) -> None:
    monkeypatch.setenv("MINORM_DATABASE_URL", database_url)
    shutil.copy(example, pytester.path / example.name)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest(
        "-s", "-p", "no:randomly", f"--minorm-app={example.stem}:models", example.name
    )
    result.assert_outcomes(passed=4 if "assertions" in example.name else 3)


def test_client_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    monkeypatch.setenv("MINORM_DATABASE_URL", database_url)
    runpy.run_path(str(EXAMPLES / "testing_client.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "working on " in out
    assert "test_" in out.splitlines()[0]
    assert "test database dropped after the last disconnect" in out
