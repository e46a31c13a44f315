"""Alembic environment: runs on the connection `storage.migrate.upgrade` hands over (async engines)."""

from typing import Any

from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `pulsebot db upgrade` (storage.migrate.upgrade)")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave slack-sdk's own tables (installations, bots, OAuth states: `slack_*`) out of autogenerate.

    The Slack face creates them with the stores' `create_tables()`; without this filter a future
    autogenerate would see them as unknown and write a migration that drops every installation.
    """
    table = obj.table.name if type_ in ("column", "index", "unique_constraint", "foreign_key_constraint") else name
    return not (table or "").startswith("slack_")


context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
