"""The live class board (issue 22): students' progress while a lab class runs.

``grade --watch --submit URL`` posts each change of a student's checks
(``POST /api/v1/progress``, :mod:`.api`) when the assignment takes progress
(:class:`~.models.BoardSetting`); the assignment's instructors watch the board
(``/gradebook/<course>/a/<slug>/board``, :mod:`.page`), whose data is also JSON for other
tools (:mod:`.data`). Progress is never a grade, never exported, never sent to the LMS.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from webhook.board import api, page

    api.init_app(app)
    page.init_app(app)
