"""The grading report that ``grade`` and the server share: dialect, writer, reader, scoring, rubric.

The student's ``grade`` writes a report with :func:`submissions.writer.to_junit_xml`; the
instructor's server reads it back and scores it. Nothing here imports Flask, SQLAlchemy,
Alembic or standardwebhooks: the server's storage lives in :mod:`webhook.storage`.
"""
