"""The grading report: its JUnit dialect, validation, scoring and storage.

Both sides use this package: the student's ``grade`` writes a report with
:func:`submissions.writer.to_junit_xml`, the instructor's server reads it back.
"""
