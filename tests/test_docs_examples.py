"""Every runnable sample of the docs runs, on every backend, as a user would run it.

Each `docs/examples/*.py`, `examples/*.py` and `examples/*/main.py` file runs as a subprocess with
`MINORM_DATABASE_URL` pointing at an empty database of the backend under test (a fresh SQLite
file, or a server database dropped and created again for the run). It must exit 0 and print,
in order, every line the file announces with a `# expect: <text>` comment. A file may limit
itself to some backends with a `# backends: postgresql, mysql` comment. Files whose name
contains `test_` are pytest files, run by pytest itself, and are skipped here.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import subprocess
import sys

import pytest

from minorm.testclient import DatabaseTestClient
from minorm.url import DatabaseURL

ROOT = pathlib.Path(__file__).parent.parent
CANDIDATES = [
    *(ROOT / "docs" / "examples").glob("*.py"),
    *(ROOT / "examples").glob("*.py"),
    *(ROOT / "examples").glob("*/main.py"),  # an example that is a folder runs its main.py
]
SCRIPTS = sorted(p for p in CANDIDATES if "test_" not in p.name and p.name != "__init__.py")
EXPECT = re.compile(r"^# expect: (.+)$", re.M)
ONLY = re.compile(r"^# backends: (.+)$", re.M)


def expected_lines(source: str) -> list[str]:
    return [line.strip() for line in EXPECT.findall(source)]


def first_missing(lines: list[str], output: str) -> str | None:
    """The first expected line not found in `output` after the previous one, or None."""
    position = 0
    for line in lines:
        found = output.find(line, position)
        if found < 0:
            return line
        position = found + len(line)
    return None


def backends_of(source: str) -> set[str] | None:
    found = ONLY.search(source)
    return None if found is None else {name.strip() for name in found.group(1).split(",")}


def fresh_database(backend: str, database_url: str) -> str:
    """An empty database for one script: the worker's SQLite file, or `<worker db>_ex`."""
    if backend == "sqlite":
        return database_url
    url = DatabaseURL(database_url)
    url = url.replace(database=f"{url.database}_ex")

    async def recreate() -> None:
        await DatabaseTestClient.drop_database(url)
        await DatabaseTestClient.create_database(url)

    asyncio.run(recreate())
    return str(url.render(hide_password=False))


def run_script(path: pathlib.Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINORM_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=path.parent,
        env=env,
    )


def test_there_are_scripts_to_run() -> None:
    names = {path.name for path in SCRIPTS}
    assert "quickstart.py" in names
    assert (
        len([p for p in SCRIPTS if p.parent.name == "examples" and p.parent.parent.name == "docs"])
        >= 8
    )


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_script_runs(script: pathlib.Path, backend: str, database_url: str) -> None:
    source = script.read_text()
    only = backends_of(source)
    if only is not None and backend not in only:
        pytest.skip(f"{script.name} runs only on {', '.join(sorted(only))}")
    result = run_script(script, fresh_database(backend, database_url))
    assert result.returncode == 0, f"{script.name} failed on {backend}:\n{result.stderr}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
    missing = first_missing(expected_lines(source), result.stdout)
    assert missing is None, (
        f"{script.name} on {backend} did not print {missing!r}:\n{result.stdout}"
    )


def test_expect_markers_are_read_in_order() -> None:
    source = "x = 1\n# expect: first line\nprint()\n# expect: second: with colon \n"
    assert expected_lines(source) == ["first line", "second: with colon"]
    assert backends_of(source) is None
    assert backends_of("# backends: postgresql, mysql\n") == {"postgresql", "mysql"}


def test_expected_lines_must_appear_in_order() -> None:
    output = "a: 1\nb: 2\nc: 3\n"
    assert first_missing(["a: 1", "c: 3"], output) is None
    assert first_missing(["c: 3", "a: 1"], output) == "a: 1"
    assert first_missing(["b: 2", "d: 4"], output) == "d: 4"
