"""``grade --hosts``: a class of lab machines graded over SSH, a few at a time.

:mod:`~grader.batch.class_run` reads the class file, shows every host in a live table and
writes ``summary.csv``; each host is graded by ``grade --host`` forked from one warm
worker process (:mod:`~grader.batch.worker`).
"""
