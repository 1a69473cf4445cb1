"""The report on its way out: shown to people, printed for programs, sent to the server.

One :class:`~submissions.dialect.Report` object, serialised only here at the edges:
tables for a person (:mod:`~grader.report.render`, rich) or plain lines for a screen
reader or a pipe (:mod:`~grader.report.plain`; which one, :mod:`~grader.report.show`),
the stable ``grade --json`` document (:mod:`~grader.report.report_json`, no rich), and
``grade --submit``, which sends the JUnit XML to the instructor's server and keeps an
outbox of what waits (:mod:`~grader.report.submit`). What a report contains is the
shared dialect's job (:mod:`submissions`); grading that makes one is :mod:`grader.run`'s.
"""
