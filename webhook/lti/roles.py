"""What a user may do in the course: read from the *context* roles of a launch only.

LTI 1.3 (core, appendix A.2) names three kinds of roles: system roles
(``…/lis/v2/system/person#…``), institution roles (``…/lis/v2/institution/person#…``) and
context roles (``…/lis/v2/membership#…``, with sub-roles ``…/membership/Principal#Sub``).
Only a context role says what the user is *in this course*: an institution's "Instructor"
teaches somewhere, not necessarily here, and a system "Administrator" runs the LMS. So
institution, system and unknown roles (``urn:x#Instructor``) grant nothing, and a sub-role
counts as its principal role (``membership/Learner#Instructor`` is a learner). The simple
names the spec allows for context roles (``Instructor``, ``Learner``, …) count as those
roles, and LTI 1.1's ``TeachingAssistant`` as an instructor's sub-role.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"
#: Context roles (principal names) that teach the course: its gradebook, flags, deep linking.
TEACHING = frozenset({"Instructor", "Administrator", "TeachingAssistant"})
#: Context roles that take the course: a roster row and a token.
LEARNING = frozenset({"Learner"})


class CourseRole(Enum):
    """What a launch or an NRPS member is in the course; ``NONE`` is refused a page."""

    INSTRUCTOR = "instructor"
    LEARNER = "learner"
    NONE = "none"


def context_role(role: str) -> str | None:
    """The principal context role a role URI names, or ``None`` if it is not a context role."""
    if role.startswith(MEMBERSHIP + "#"):
        return role[len(MEMBERSHIP) + 1 :] or None
    if role.startswith(MEMBERSHIP + "/"):
        principal, hash_, sub = role[len(MEMBERSHIP) + 1 :].partition("#")
        return principal if hash_ and sub and "/" not in principal else None
    if role and role.isalpha():  # a simple name: the spec allows them for context roles only
        return role
    return None


def course_role(roles: Iterable[str]) -> CourseRole:
    """Instructor if any context role teaches, else learner if one learns, else none."""
    found = {context_role(role) for role in roles}
    if found & TEACHING:
        return CourseRole.INSTRUCTOR
    if found & LEARNING:
        return CourseRole.LEARNER
    return CourseRole.NONE
