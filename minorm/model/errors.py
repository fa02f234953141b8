"""Pydantic's validation errors as minorm's."""

from __future__ import annotations

import pydantic

from minorm.exceptions import ValidationError


def validation_error(model: str, exc: pydantic.ValidationError) -> ValidationError:
    """minorm's ValidationError for pydantic's, naming every bad field."""
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(model)"
        problems.append(f"{where}: {error['msg']}")
    message = f"{model}: {len(problems)} invalid field(s): " + "; ".join(problems)
    return ValidationError(message, [dict(e) for e in exc.errors(include_url=False)])
