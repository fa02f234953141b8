"""Laying out generated source the way `ruff format` (Black's style) would, within 100 columns.

An expression is plain text or a `Group` (an opening bracket, items, a closing bracket). A line
that fits stays one line; otherwise the outer group's items go on one indented line, and if
that does not fit either, one item per line, each with a trailing comma.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_LENGTH = 100
INDENT = "    "


@dataclass(frozen=True, slots=True)
class Group:
    """`opener item, item closer`, for example `minorm.Index(` ... `)` or `[` ... `]`."""

    opener: str
    items: tuple[Expression, ...]
    closer: str


Expression = str | Group


def flat(expression: Expression) -> str:
    """`expression` on one line."""
    if isinstance(expression, str):
        return expression
    return (
        expression.opener + ", ".join(flat(item) for item in expression.items) + expression.closer
    )


def layout(
    expression: Expression, indent: str = "", prefix: str = "", suffix: str = ""
) -> list[str]:
    """The lines of `{prefix}{expression}{suffix}` at `indent`."""
    one = f"{indent}{prefix}{flat(expression)}{suffix}"
    if isinstance(expression, str) or len(one) <= LINE_LENGTH or not expression.items:
        return [one]
    inner = indent + INDENT
    body = inner + ", ".join(flat(item) for item in expression.items)
    if len(body) <= LINE_LENGTH:
        lines = [body]
    elif len(expression.items) == 1:
        lines = layout(expression.items[0], inner)
    else:
        lines = [line for item in expression.items for line in layout(item, inner, suffix=",")]
    return [f"{indent}{prefix}{expression.opener}", *lines, f"{indent}{expression.closer}{suffix}"]
