"""Which Docker engine is graded, and how grading reaches it: this machine or one over SSH.

:mod:`~grader.targets.engine_choice` decides which engine, as the ``docker`` CLI would
(``-H``, ``$DOCKER_HOST``, ``$DOCKER_CONTEXT``, ``docker context use``);
:mod:`~grader.targets.connection` connects to it, with failures as typed errors;
:mod:`~grader.targets.ssh` reaches a lab machine over ``ssh``; and
:mod:`~grader.targets.target` gives the checks the same things either way: the engine's
client, the machine's files, a testinfra host. A new way of reaching a machine is a new
target here, and nothing else changes.
"""
