"""Alembic-backed migrations: one function per `minorm` command (DESIGN.md section 6).

```python
from minorm import migrations

migrations.makemigrations(models, message="add users")
migrations.migrate(models)                 # to head
pending = migrations.check(models)         # [] when models and migrations agree
```
"""

from minorm.migrations.commands import (
    MakeMigrationsResult,
    branches,
    check,
    current,
    downgrade,
    edit,
    heads,
    history,
    makemigrations,
    merge,
    migrate,
    revision,
    show,
    stamp,
)
from minorm.migrations.config import init, list_templates
from minorm.migrations.state import Report

__all__ = [
    "MakeMigrationsResult",
    "Report",
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "heads",
    "history",
    "init",
    "list_templates",
    "makemigrations",
    "merge",
    "migrate",
    "revision",
    "show",
    "stamp",
]
