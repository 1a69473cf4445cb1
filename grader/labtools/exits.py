"""The exit codes of ``grade start``, ``finish``, ``reset`` and ``lab selftest``: here, so the
commands' modules share them without importing one another."""

EXIT_DONE = 0
EXIT_CANNOT = 2  # the engine, an option, a setting: as grade's own
EXIT_NOT_READY = 4  # grade start found problems
#: Nothing removed: no --yes and no terminal, an answer no, the default engine unnamed.
EXIT_NOT_CONFIRMED = 5
EXIT_UNKNOWN_TASK = 6
