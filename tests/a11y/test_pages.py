"""Every page a person sees passes axe-core in headless Chromium (issue 24, item 4): no
violation of impact "serious" or "critical", and no status shown by colour alone.

The pages are reached by walking each site (conftest) as a person would; a failure names
the page, axe's rule and the element. Every Flask route either serves an audited page or
is named in :data:`NOT_PAGES` with the reason, so a new page cannot go unaudited.
"""

from __future__ import annotations

import re

import pytest

from devlab.accessibility import BLOCKING, Violation, blocking
from webhook import create_app

from .walk import STATUS, Audited

pytestmark = pytest.mark.a11y

#: site → the pages its walk audits, in order.
PAGES: dict[str, tuple[str, ...]] = {
    "class": (
        "login",
        "login, refused",
        "courses",
        "course",
        "assignment",
        "assignment, sorted",
        "assignment settings",
        "assignment settings, an extension recorded",
        "rescore preview",
        "rescore done, its history",
        "class board",
        "student",
        "report, flagged",
        "flags, open",
        "flags, one group",
        "flags, open again",
        "flags, a flag accepted",
        "flags, a report rejected",
        "student, a report rejected",
        "flags, decided",
        "flags, all",
        "error 404",
        "error 400",
    ),
    "sample": (
        "course, sample class",
        "assignment, sample class",
        "student, sample class",
        "report, failed checks",
        "report, full marks",
    ),
    "verified": ("assignment, verified", "student, verified"),
    "lti": (
        "LTI student page",
        "LTI student page, graded",
        "LTI student page, own progress",
        "LTI deep linking",
        "LTI refused, a student deep linking",
        "LTI refused, bad signature",
        "LTI login refused, unknown platform",
        "course, launched from the LMS",
    ),
}
ALL = [(site, page) for site, pages in PAGES.items() for page in pages]

#: The routes that serve no page a person reads, and why.
NOT_PAGES = {
    "static": "files",
    "gradebook.static": "the stylesheet",
    "board.static": "the board's stylesheet and script",
    "api.submit": "JSON for grade --submit",
    "api.show": "JSON",
    "api_exceptions.listed": "JSON",
    "api_exceptions.change": "JSON",
    "board_api.progress": "JSON from grade --watch",
    "board_api.board": "JSON (the board page draws it)",
    "health.healthz": "a probe",
    "health.readyz": "a probe",
    "gradebook.export": "CSV",
    "gradebook.logout": "a form's POST: redirects to the login page",
    "gradebook.decide": "a form's POST: redirects to the page it came from",
    "gradebook.decide_group": "a form's POST: redirects to the page it came from",
    "gradebook.exception": "a form's POST: redirects to the settings page",
    "lti.jwks": "JSON",
    "lti.canvas_config": "JSON",
    "lti.roster_sync": "a form's POST: redirects to the course page",
    "lti.deep_link": "pylti1p3's form that sends the chosen link back to the LMS by "
    "itself, gone before it is read (a bad choice: one plain-text line)",
}


@pytest.fixture
def site(request: pytest.FixtureRequest) -> dict[str, Audited]:
    name = request.param
    found: dict[str, Audited] = request.getfixturevalue(f"{name}_site")
    return found


@pytest.mark.parametrize(("site", "page"), ALL, ids=[page for _, page in ALL], indirect=["site"])
def test_the_page_has_no_serious_violation(site: dict[str, Audited], page: str) -> None:
    assert page in site, f"the walk never reached {page!r}"
    found = blocking(site[page].violations)
    assert not found, f"{len(found)} {'/'.join(sorted(BLOCKING))} violation(s):\n" + "\n".join(
        str(violation) for violation in found
    )


def undecidable(item: Violation) -> bool:
    """What axe can never decide here, checked otherwise: the contrast of SVG text (the
    colour behind it is a drawing; test_the_charts_text_has_enough_contrast) and of the sort
    arrow glyph (▲▼, hidden from screen readers, in the header's own ink) and of the class
    board's status glyphs (✓✗, named by their aria-label, in the colours of the board's
    legend, whose words axe does check on the same page)."""
    return item.rule == "color-contrast" and (
        item.html.startswith(("<text", '<span class="arrow"', '<td class="cell '))
    )


@pytest.mark.parametrize(("site", "page"), ALL, ids=[page for _, page in ALL], indirect=["site"])
def test_nothing_is_left_for_review(site: dict[str, Audited], page: str) -> None:
    """axe's "needs review" (incomplete) results are fixed too, whatever their impact, but
    for what it can never decide (:func:`undecidable`)."""
    assert page in site, f"the walk never reached {page!r}"
    left = [item for item in site[page].review if not undecidable(item)]
    assert not left, f"{len(left)} left for review:\n" + "\n".join(str(item) for item in left)


#: The charts' lightest-but-one background (the odd task bands); white is lighter still.
CHART_BACKGROUND = (247, 249, 252)


@pytest.mark.parametrize(("site", "page"), ALL, ids=[page for _, page in ALL], indirect=["site"])
def test_the_charts_text_has_enough_contrast(site: dict[str, Audited], page: str) -> None:
    """Every SVG text's fill against the chart's background: at least 4.5:1 (WCAG AA)."""
    assert page in site, f"the walk never reached {page!r}"
    faint = [
        f"{page}: {ratio:.2f}:1 for {fill} at {html}"
        for fill, html in site[page].svg_text
        if (ratio := contrast(rgb(fill), CHART_BACKGROUND)) < 4.5
    ]
    assert not faint, "\n".join(faint)


def rgb(css: str) -> tuple[int, int, int]:
    """``rgb(1, 2, 3)`` (a computed colour) as numbers."""
    found = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(, [\d.]+)?\)", css)
    assert found is not None, f"not a computed colour: {css!r}"
    return int(found[1]), int(found[2]), int(found[3])


def contrast(one: tuple[int, int, int], other: tuple[int, int, int]) -> float:
    """WCAG 2's contrast ratio of two sRGB colours."""

    def luminance(colour: tuple[int, int, int]) -> float:
        srgb = [c / 255 for c in colour]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in srgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21)
    assert contrast((0x8A, 0x94, 0xA6), (255, 255, 255)) == pytest.approx(3.06, abs=0.01)
    assert contrast((0x5C, 0x66, 0x75), CHART_BACKGROUND) == pytest.approx(5.51, abs=0.01)


@pytest.mark.parametrize(("site", "page"), ALL, ids=[page for _, page in ALL], indirect=["site"])
def test_no_status_is_shown_by_colour_alone(site: dict[str, Audited], page: str) -> None:
    """Each element that shows a status in colour also says it, in words its text or
    accessible name carries (:data:`.walk.STATUS`)."""
    assert page in site, f"the walk never reached {page!r}"
    assert not site[page].colour_only, f"{page}: status by colour alone:\n" + "\n".join(
        site[page].colour_only
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_each_walk_audits_exactly_its_pages(request: pytest.FixtureRequest, name: str) -> None:
    pages: dict[str, Audited] = request.getfixturevalue(f"{name}_site")
    assert list(pages) == list(PAGES[name])


def test_every_status_kind_is_on_some_audited_page(request: pytest.FixtureRequest) -> None:
    """The colour test is not vacuous: each kind of status element is on some page."""
    seen = {selector: 0 for selector, _ in STATUS}
    for name in PAGES:
        pages: dict[str, Audited] = request.getfixturevalue(f"{name}_site")
        for audited in pages.values():
            for selector, count in audited.status_seen.items():
                seen[selector] += count
    assert [selector for selector, count in seen.items() if count == 0] == []


def test_every_route_serves_an_audited_page_or_none(request: pytest.FixtureRequest) -> None:
    """The Flask routes of webhook/ are the pages: each is audited or named in NOT_PAGES."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "routes"})
    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    audited = {
        audited.endpoint
        for name in PAGES
        for audited in request.getfixturevalue(f"{name}_site").values()
    }
    assert routes - audited - set(NOT_PAGES) == set(), "a route neither audited nor excused"
    assert set(NOT_PAGES) - routes == set(), "NOT_PAGES names a route that is gone"
    assert audited & set(NOT_PAGES) == set(), "an audited route is also excused"
