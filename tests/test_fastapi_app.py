"""examples/fastapi_app's own tests, run the way a user runs them (`pytest examples/fastapi_app
--minorm-url=...`) on each backend, in a pytest of their own."""

from __future__ import annotations

import pathlib

import pytest

APP = pathlib.Path(__file__).parent.parent / "examples" / "fastapi_app"


def test_fastapi_app_tests_pass(pytester: pytest.Pytester, database_url: str) -> None:
    result = pytester.runpytest_subprocess(
        str(APP), f"--minorm-url={database_url}", "-p", "no:randomly", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=6)
