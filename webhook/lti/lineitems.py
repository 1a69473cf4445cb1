"""An assignment's LMS gradebook column (AGS line item): what deep linking offers, and
what the passback finds or creates.

A column is tagged ``docker-lab-grader:<assignment slug>`` with the slug as its resource
id: the LMS course has one column per assignment, found again by its tag whoever made it
(the platform from a deep link's line item, or the passback). The first assignment of a
lab has the lab's name as its slug, so a column made before assignments (tagged with the
lab's name) is its column still.
"""

from __future__ import annotations

from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.lineitem import LineItem
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webhook.lti.models import LtiContext, LtiLineItem
from webhook.storage.db import write_transaction
from webhook.storage.models import Assignment

LINE_ITEM_TAG = "docker-lab-grader:{slug}"


class LineItemPending(LookupError):
    """Another worker is creating the assignment's column right now: try again shortly."""


def wanted(assignment: Assignment, max_score: int) -> LineItem:
    """The column of ``assignment``, as deep linking offers it and the passback creates it."""
    return (
        LineItem()
        .set_tag(LINE_ITEM_TAG.format(slug=assignment.slug))
        .set_resource_id(assignment.slug)
        .set_score_maximum(max_score)
        .set_label(assignment.title or assignment.slug)
    )


def line_item(
    session: Session,
    ags: AssignmentsGradesService,
    context: LtiContext,
    assignment: Assignment,
    max_score: int,
) -> LineItem:
    """The assignment's column in the context: as remembered, else found by tag, else
    created.

    Once per (context, assignment), by the worker that inserts the placeholder row first
    (the unique constraint decides, in a short transaction): workers sending a class's
    first grades at once must not each create a column. No lock is held while the LMS
    answers.
    """
    mine = (LtiLineItem.context_pk == context.id, LtiLineItem.assignment_id == assignment.id)
    known = session.scalar(select(LtiLineItem.url).where(*mine))
    if known:
        return LineItem({"id": known})
    if known == "":
        raise LineItemPending("the assignment's line item is being created by another worker")
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    try:
        with write_transaction(engine) as connection:
            connection.execute(
                insert(LtiLineItem).values(
                    context_pk=context.id, assignment_id=assignment.id, lab=assignment.lab, url=""
                )
            )
    except IntegrityError:
        raise LineItemPending(
            "the assignment's line item is being created by another worker"
        ) from None
    try:
        found = ags.find_or_create_lineitem(wanted(assignment, max_score))
        url = found.get_id()
        if not url:
            raise LookupError("the LMS answered a line item without an id")
    except BaseException:
        with write_transaction(engine) as connection:
            connection.execute(delete(LtiLineItem).where(*mine, LtiLineItem.url == ""))
        raise
    with write_transaction(engine) as connection:
        connection.execute(update(LtiLineItem).where(*mine).values(url=url))
    return found
