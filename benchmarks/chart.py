"""The performance page's chart: minorm's time over the raw driver's, one bar per workload.

`python -m benchmarks --svg docs/assets/bench-ratios.svg` writes it from the run's own
figures, so the chart and the table always come from one run.
"""

from __future__ import annotations

import datetime
from html import escape
from typing import Any

NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MariaDB"}
COLOURS = {"sqlite": "#4c72b0", "postgresql": "#55a868", "mysql": "#c44e52"}
LABEL_RIGHT = 372  # where labels end and bars start
SCALE = 100  # pixels per 1.0 of ratio
ROW = 24


def svg(rows: list[dict[str, Any]]) -> str:
    """An SVG bar chart of `rows` (dicts with backend, workload and ratio)."""
    top = max((row["ratio"] for row in rows), default=1.0)
    ticks = range(int(top) + 2)
    width = LABEL_RIGHT + SCALE * ticks[-1] + 60
    height = 40 + ROW * len(rows) + 50
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        '<text x="10" y="20" font-size="14" font-weight="bold">'
        "minorm time / raw driver time (lower is better; 1.0 = no cost)</text>",
    ]
    for index, row in enumerate(rows):
        y = 40 + ROW * index
        label = f"{NAMES.get(row['backend'], row['backend'])}: {row['workload']}"
        bar = SCALE * row["ratio"]
        colour = COLOURS.get(row["backend"], "#8172b2")
        parts += [
            f'<text x="{LABEL_RIGHT - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{LABEL_RIGHT}" y="{y}" width="{bar:.1f}" height="18" fill="{colour}"/>',
            f'<text x="{LABEL_RIGHT + bar + 4:.1f}" y="{y + 13}">{row["ratio"]:.2f}</text>',
        ]
    axis = 40 + ROW * len(rows) + 14
    for tick in ticks:
        x = LABEL_RIGHT + SCALE * tick
        parts.append(f'<text x="{x}" y="{axis}" text-anchor="middle">{tick}</text>')
        parts.append(
            f'<line x1="{x}" y1="36" x2="{x}" y2="{axis - 12}" stroke="#ccc" stroke-width="1"/>'
        )
    today = datetime.date.today().isoformat()
    parts += [
        f'<text x="10" y="{axis + 18}" fill="#555">make bench, {today}; see the table for '
        "figures and versions</text>",
        "</svg>",
        "",
    ]
    return "\n".join(parts)
