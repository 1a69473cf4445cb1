"""Grading a lab: its checks handed to pytest, their results gathered into one report.

:mod:`~grader.run.labs` finds a lab by entry point and :mod:`~grader.run.lab` is the one
object its checks receive; :mod:`~grader.run.marks` reads the ``task``/``check``
markers, a check fails through :mod:`~grader.run.verdict`; :mod:`~grader.run.runner`
runs pytest once in-process and :mod:`~grader.run.collector` turns its outcomes into the
report's results, naming the step in progress (:mod:`~grader.run.activity`) when one
times out. :mod:`~grader.run.watch` grades again at each change (``grade --watch``), and
:mod:`~grader.run.rubric` writes the server's rubric from the same checks. The pytest
plugin itself stays :mod:`grader.plugin`, the name labs' ``pytest.ini`` and the entry
point give it.
"""
