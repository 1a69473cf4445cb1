"""The server's storage: SQLAlchemy 2 models, engines, Alembic migrations, read queries, tokens.

Only the server imports this (it needs SQLAlchemy and Alembic); the report's format that
``grade`` and the server share stays in :mod:`submissions`.
"""
