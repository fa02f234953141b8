"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: str | Sequence[str] | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}
<%
    # minorm_databases: set when the registry migrates several databases (the main one is "").
    databases = context.get("minorm_databases")
%>\
% if databases:


def upgrade(engine_name: str = "") -> None:
    """Upgrade the database `engine_name` ("": the main one) with its upgrade_<name>()."""
    body = globals().get(f"upgrade_{engine_name}")
    if body is not None:
        body()


def downgrade(engine_name: str = "") -> None:
    """Downgrade the database `engine_name` ("": the main one) with its downgrade_<name>()."""
    body = globals().get(f"downgrade_{engine_name}")
    if body is not None:
        body()
% for name in databases:


def upgrade_${name}() -> None:
    """Upgrade the ${name or "main"} database."""
    ${context.get(f"{name}_upgrades", "pass")}


def downgrade_${name}() -> None:
    """Downgrade the ${name or "main"} database."""
    ${context.get(f"{name}_downgrades", "pass")}
% endfor
% else:


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
% endif
