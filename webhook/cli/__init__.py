"""``grade-server``: the instructor's commands, one module per command group.

* :mod:`webhook.cli.errors`: the errors and their exit codes (one line on stderr);
* :mod:`webhook.cli.group`: the ``grade-server`` command itself, which loads the app and
  lists its commands (``grade-server run``, :mod:`webhook.serve`'s, is added by the
  console script, :mod:`webhook.console`);
* :mod:`webhook.cli.db`, :mod:`~webhook.cli.course`, :mod:`~webhook.cli.roster`,
  :mod:`~webhook.cli.instructor`, :mod:`~webhook.cli.grades`,
  :mod:`~webhook.cli.assignment` (and :mod:`~webhook.cli.assignment_exceptions`, its
  per-student commands): the command groups, which
  :func:`init_app` registers on ``app.cli``; :mod:`webhook.cli.lookup`, the rows they name.

A feature registers its own commands from its own ``init_app`` (``grade-server lti`` is
:mod:`webhook.lti`'s) and imports only :mod:`webhook.cli.errors` from here.
"""

from __future__ import annotations

from flask import Flask

from webhook.cli import (
    assignment,
    assignment_exceptions,  # noqa: F401  (adds its commands to assignment)
    course,
    db,
    grades,
    instructor,
    roster,
)


def init_app(app: Flask) -> None:
    for group in (
        db.db_group,
        course.course_group,
        assignment.assignment_group,
        roster.roster_group,
        instructor.instructor_group,
        grades.grades_group,
    ):
        app.cli.add_command(group)
