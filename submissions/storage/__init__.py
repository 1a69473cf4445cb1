"""Durable storage of submissions: SQLAlchemy 2 models, engines and Alembic migrations."""
