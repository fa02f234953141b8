"""Which type changes lose data, and how operations read (no database needed)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from minorm.migrations.operations import RenameColumnOp, describe, destruction, narrows


@pytest.mark.parametrize(
    ("old", "new", "loses"),
    [
        (sa.String(100), sa.String(20), True),
        (sa.String(20), sa.String(100), False),
        (sa.Text(), sa.String(100), True),
        (sa.String(100), sa.Text(), False),
        (sa.BigInteger(), sa.Integer(), True),
        (sa.SmallInteger(), sa.BigInteger(), False),
        (sa.Integer(), sa.Integer(), False),
        (sa.Numeric(10, 2), sa.Numeric(8, 2), True),
        (sa.Numeric(10, 2), sa.Numeric(12, 4), False),
        (sa.Integer(), sa.String(10), True),
        (sa.Float(), sa.Integer(), True),
    ],
)
def test_narrows(
    old: sa.types.TypeEngine[object], new: sa.types.TypeEngine[object], loses: bool
) -> None:
    assert narrows(old, new) is loses


def test_destructive_operations_say_what_is_lost() -> None:
    dialect = postgresql.dialect()
    assert destruction(ops.DropTableOp("users"), None, dialect) == (
        "drop table users: every row of it is deleted"
    )
    assert destruction(ops.DropColumnOp("users", "age"), "users", dialect) == (
        "drop column users.age: its values are deleted"
    )
    narrowing = ops.AlterColumnOp(
        "users", "name", existing_type=sa.String(100), modify_type=sa.String(20)
    )
    assert destruction(narrowing, "users", dialect) == (
        "change type of users.name from VARCHAR(100) to VARCHAR(20): "
        "values may be cut or fail to convert"
    )
    widening = ops.AlterColumnOp(
        "users", "name", existing_type=sa.String(20), modify_type=sa.String(100)
    )
    assert destruction(widening, "users", dialect) is None
    added = ops.AddColumnOp("users", sa.Column("age", sa.Integer(), nullable=True))
    assert destruction(added, "users", dialect) is None
    assert describe(added, "users", dialect) == "add column users.age (INTEGER, null)"


def test_a_rename_reverses_to_the_old_name() -> None:
    rename = RenameColumnOp(
        "users",
        "name",
        modify_name="full_name",
        existing_type=sa.String(100),
        existing_nullable=True,
        modify_nullable=False,
    )
    back = rename.reverse()
    assert (back.column_name, back.modify_name) == ("full_name", "name")
    assert (back.existing_nullable, back.modify_nullable) == (False, True)
    assert describe(back, "users", postgresql.dialect()) == (
        "alter column users.full_name: rename to name, null"
    )
