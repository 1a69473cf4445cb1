"""Alembic environment: runs on the connection handed over by ``db.upgrade``."""

from __future__ import annotations

from alembic import context

import webhook.board.models  # (the board's tables, on storage's Base)
import webhook.lti.models  # (LTI's tables, on storage's Base)
import webhook.storage.grade_models  # noqa: F401  (the decided grades, on the same Base)
from webhook.storage.db import make_engine
from webhook.storage.models import Base

config = context.config
#: The whole schema: storage's tables and every feature's, whose model modules are imported
#: above (storage's models import no feature's).
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
