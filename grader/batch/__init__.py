"""``grade --hosts``: a class of lab machines graded over SSH, a few at a time.

:mod:`~grader.batch.class_run` reads the class file, shows every host in a live table and
writes ``summary.csv``; each host is graded by ``grade --host`` forked from one warm
worker process (:mod:`~grader.batch.worker`), which the class run starts and talks to
through :mod:`~grader.batch.pool`. The CLI imports this package; nothing here imports
the CLI: a forked grader runs the installed ``grade`` command, found by its name.
"""
