"""The Markdown pages: every file they include exists and is included with a marker the
snippets extension understands (a mangled marker shows up on the page as plain text)."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = re.compile(r'^--8<-- "([^"]+)"$')


def test_every_snippet_marker_is_well_formed_and_points_at_a_file() -> None:
    seen = 0
    problems = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if not re.match(r"^\s*-+\s*8\s*<", line):
                continue
            match = MARKER.match(line)
            where = f"{page.relative_to(ROOT)}:{number}"
            if match is None:
                problems.append(f"{where}: malformed marker {line!r}")
            elif not (ROOT / match.group(1)).is_file():
                problems.append(f"{where}: no file {match.group(1)}")
            else:
                seen += 1
    assert problems == []
    assert seen >= 10  # the pages include their examples this way
