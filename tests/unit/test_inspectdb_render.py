"""inspectdb's rendering, from hand-built reflection results: names, fields, enums, Meta."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from minorm.inspectdb import ReflectedSchema, render
from minorm.inspectdb.columns import field_call, literal
from minorm.inspectdb.reflect import (
    ReflectedColumn,
    ReflectedForeignKey,
    ReflectedIndex,
    ReflectedTable,
)


def column(name: str, type_: sa.types.TypeEngine[object], **options: object) -> ReflectedColumn:
    values: dict[str, object] = {
        "nullable": False,
        "default": None,
        "autoincrement": False,
        "primary_key": False,
    }
    values.update(options)
    return ReflectedColumn(name=name, type=type_, **values)  # type: ignore[arg-type]  # test data


def schema(dialect: str, *tables: ReflectedTable) -> ReflectedSchema:
    return ReflectedSchema(dialect=dialect, url=f"{dialect}://host/db", schema=None, tables=tables)


def test_a_table_becomes_a_model_with_meta() -> None:
    table = ReflectedTable(
        name="order items",
        columns=(
            column("id", sa.INTEGER(), primary_key=True, autoincrement=True),
            column("class", sa.VARCHAR(20), nullable=True),
            column("model_name", sa.TEXT(), default="'x'::text"),
            column("2nd", sa.SMALLINT(), nullable=True),
            column("query", sa.INTEGER(), nullable=True),
        ),
        primary_key=("id",),
        indexes=(ReflectedIndex("by_second", ("2nd", "class"), unique=True),),
        unique_constraints=(ReflectedIndex("order items_query_key", ("query",), unique=True),),
        foreign_keys=(
            ReflectedForeignKey("fk_x", ("query",), None, "others", ("id",), ondelete="SET NULL"),
        ),
    )
    source = render(schema("postgresql", table))
    assert (
        "class OrderItems(minorm.Model):\n"
        "    id = minorm.IntegerField(primary_key=True)\n"
        '    class_ = minorm.CharField(max_length=20, null=True, column_name="class")\n'
        "    model_name_ = minorm.TextField(\n"
        '        server_default=sqlalchemy.text("\'x\'::text"), column_name="model_name"\n'
        "    )\n"
        '    f_2nd = minorm.SmallIntegerField(null=True, column_name="2nd")\n'
        '    query_ = minorm.IntegerField(null=True, column_name="query", unique=True)\n'
        "\n"
        "    class Meta:\n"
        "        registry = models\n"
        '        tablename = "order items"\n'
        '        indexes = [minorm.Index(fields=["f_2nd", "class_"], name="by_second", unique=True)]\n'
        "        constraints = [\n"
        "            sqlalchemy.ForeignKeyConstraint(\n"
        '                ["query_"], ["others.id"], name="fk_x", ondelete="SET NULL"\n'
        "            )\n"
        "        ]\n"
    ) in source
    compile(source, "<generated>", "exec")


def test_enums_become_enum_classes_shared_by_type() -> None:
    mood = postgresql.ENUM("happy", "in between", name="mood")
    table = ReflectedTable(
        name="people",
        columns=(
            column("id", sa.BIGINT(), primary_key=True, autoincrement=True),
            column("a", mood, nullable=True),
            column("b", mood, nullable=True),
            column("state", postgresql.ENUM("on", "off", name="people_state_enum")),
        ),
        primary_key=("id",),
    )
    source = render(schema("postgresql", table))
    assert 'Mood = enum.Enum("Mood", [("happy", "happy"), ("in between", "in between")])' in source
    assert source.count("Mood = enum.Enum") == 1
    assert 'class PeopleStateEnum(enum.Enum):\n    on = "on"\n    off = "off"\n' in source
    assert (
        'a = minorm.Field(python_type=Mood, column_type=sqlalchemy.Enum(Mood, name="mood")'
        in source
    )
    assert "state = minorm.ChoiceField(PeopleStateEnum)" in source


def test_foreign_keys_become_relation_fields_where_a_model_can_declare_them() -> None:
    users = ReflectedTable(
        name="users",
        columns=(column("id", sa.INTEGER(), primary_key=True, autoincrement=True),),
        primary_key=("id",),
    )
    messages = ReflectedTable(
        name="messages",
        columns=(
            column("id", sa.INTEGER(), primary_key=True, autoincrement=True),
            column("sender_id", sa.INTEGER()),
            column("recipient_id", sa.INTEGER(), nullable=True),
            column("profile_id", sa.INTEGER()),
            column("legacy_id", sa.BIGINT()),
        ),
        primary_key=("id",),
        unique_constraints=(ReflectedIndex("messages_profile_id_key", ("profile_id",), True),),
        foreign_keys=(
            ReflectedForeignKey(None, ("sender_id",), None, "users", ("id",), ondelete="CASCADE"),
            ReflectedForeignKey(None, ("recipient_id",), None, "users", ("id",), "SET NULL"),
            ReflectedForeignKey(None, ("profile_id",), None, "users", ("id",)),
            ReflectedForeignKey("fk_legacy", ("legacy_id",), None, "users", ("id",)),
        ),
    )
    source = render(schema("postgresql", messages, users))
    assert (
        "    sender_id = minorm.ForeignKey(\n"
        '        "Users",\n'
        "        on_delete=minorm.CASCADE,\n"
        "        on_update=minorm.DO_NOTHING,\n"
        '        related_name="messages_sender_id_set",\n'
        "    )\n"
    ) in source
    assert '        related_name="messages_recipient_id_set",\n' in source
    assert "        on_delete=minorm.SET_NULL,\n" in source
    assert (
        "    profile_id = minorm.OneToOneField(\n"
        '        "Users", on_delete=minorm.DO_NOTHING, on_update=minorm.DO_NOTHING\n'
        "    )\n"
    ) in source
    # A BIGINT key to an INTEGER primary key: a relation field would change its type.
    assert "    legacy_id = minorm.BigIntegerField()\n" in source
    assert (
        'sqlalchemy.ForeignKeyConstraint(["legacy_id"], ["users.id"], name="fk_legacy")' in source
    )
    namespace: dict[str, object] = {}
    exec(compile(source, "<generated>", "exec"), namespace)


def test_a_table_without_a_primary_key_is_left_commented_out() -> None:
    table = ReflectedTable(name="log", columns=(column("line", sa.TEXT()),), primary_key=())
    source = render(schema("sqlite", table))
    assert '# Table "log" has no primary key' in source
    assert "\n# class Log(minorm.Model):\n#     line = minorm.TextField()\n" in source
    namespace: dict[str, object] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert "Log" not in namespace


def test_types_without_a_factory_keep_their_sqlalchemy_type() -> None:
    assert field_call(mysql.TINYINT(display_width=4), "mysql").source() == (
        "minorm.Field(python_type=int, column_type=mysql.TINYINT(display_width=4))"
    )
    assert field_call(mysql.TINYINT(display_width=1), "mysql").source() == "minorm.BooleanField()"
    assert field_call(postgresql.TIMESTAMP(), "postgresql").source() == (
        "minorm.Field(python_type=datetime.datetime, column_type=postgresql.TIMESTAMP())"
    )
    assert field_call(postgresql.TIMESTAMP(timezone=True), "postgresql").source() == (
        "minorm.DateTimeField()"
    )
    assert field_call(sa.NUMERIC(10, 0), "sqlite").source() == (
        "minorm.DecimalField(max_digits=10, decimal_places=0)"
    )
    assert field_call(postgresql.ARRAY(sa.TEXT()), "postgresql").source() == (
        "minorm.PGArrayField(sqlalchemy.TEXT())"
    )
    assert field_call(mysql.LONGTEXT(), "mysql").source() == "minorm.TextField()"
    assert field_call(mysql.TEXT(), "mysql").source() == (
        "minorm.Field(python_type=str, column_type=mysql.TEXT())"
    )
    mariadb_json = mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin")
    assert field_call(mariadb_json, "mysql", is_mariadb=True).source() == "minorm.JSONField()"
    # A JSONField is JSONB on PostgreSQL; a `json` column keeps its type.
    assert field_call(postgresql.JSONB(), "postgresql").source() == "minorm.JSONField()"
    assert field_call(postgresql.JSON(), "postgresql").source() == (
        "minorm.Field(python_type=typing.Any, column_type=postgresql.JSON())"
    )
    assert field_call(sa.JSON(), "sqlite").source() == "minorm.JSONField()"


def test_literals_are_double_quoted() -> None:
    assert literal("it's") == '"it\'s"'
    assert literal('say "hi"') == "'say \"hi\"'"
    assert literal(["a", "b"]) == '["a", "b"]'
    assert literal(("a",)) == '("a",)'


def test_import_minorm_does_not_load_inspectdb_shell_or_graph() -> None:
    code = (
        "import sys, minorm; print(sorted(m for m in ('minorm.inspectdb', 'minorm.shell', "
        "'minorm.graph', 'sqlalchemy.ext.asyncio', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_long_names_are_laid_out_as_ruff_format_writes_them(tmp_path: pathlib.Path) -> None:
    long = "a_rather_long_column_name_that_keeps_going_and_going"
    labels = tuple(f"label number {n} with spaces" for n in range(6))
    table = ReflectedTable(
        name="a_table_with_a_long_name_too",
        columns=(
            column("id", sa.BIGINT(), primary_key=True, autoincrement=True),
            column(
                long, sa.NUMERIC(12, 4), nullable=True, default="0." + "0" * 70, comment="x" * 80
            ),
            column(f"{long}_2", postgresql.ENUM(*labels, name="a_very_long_enum_type_name")),
            column(f"{long}_3", postgresql.JSONB(), nullable=True),
        ),
        primary_key=("id",),
        indexes=(ReflectedIndex(f"ix_{long}", (long, f"{long}_2", f"{long}_3"), True),),
        unique_constraints=(ReflectedIndex(f"uq_{long}", (long, f"{long}_2"), True),),
        foreign_keys=(
            ReflectedForeignKey(f"fk_{long}", (long,), None, "elsewhere", ("id",), "CASCADE"),
        ),
    )
    path = tmp_path / "models.py"
    path.write_text(render(schema("postgresql", table)))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--check",
            "--diff",
            "--isolated",
            "--line-length",
            "100",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    compile(path.read_text(), "models.py", "exec")
