"""A walk through a served app in headless Chromium that audits each page it reaches.

Each page is named, audited by axe-core (:mod:`devlab.accessibility`), matched to the Flask
endpoint that served it (so that a route no walk reaches is seen: test_routes) and searched
for a status shown by colour alone (:data:`STATUS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from werkzeug.exceptions import MethodNotAllowed

from devlab.accessibility import Violation, audit
from tests.gradebook.test_browser import follow

#: Every element that shows a status by colour (a class the stylesheet colours, a stripe, a
#: chart mark) and the words, one of which it must also say in its text or accessible name.
STATUS: tuple[tuple[str, str], ...] = (
    (".badge", r"\w"),
    (".mark", r"\w"),
    (".flash", r"\w"),
    ("#grades td.grade", r"\d|—"),
    ("td.lms", r"\w|^$"),  # empty: the student has no LMS account, and no colour either
    ("#roster tbody tr", r"done|in progress|not started"),
    ("#roster tbody tr.flagged", r"flagged|self-reported higher"),
    ("table.checks tbody tr", r"passed|failed|error"),
    ("#flags tbody tr[data-flag], #report-flags tbody tr", r"open|accepted|rejected"),
    ("#flags tbody tr.group", r"open|accepted|rejected|decided"),
    ("#history tbody tr.flagged", r"⚑"),
    ("#history tbody tr.rejected", r"rejected"),
    ("#history tbody tr.late", r"late"),
    ("svg circle.point", r"\d+/\d+"),
    ("svg g.row", r"\d+%"),
    (".stats li", r"\w"),
    (".refused", r"\w"),
)

#: The text or accessible name of each element a selector matches: its aria-label, the
#: elements its aria-labelledby names, an SVG <title> child, else its text.
_NAMES = """
const [selector] = arguments;
return Array.from(document.querySelectorAll(selector)).map(el => {
  const by = (el.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean)
    .map(id => (document.getElementById(id) || {}).textContent || "").join(" ");
  const title = el.querySelector(":scope > title");
  const name = el.getAttribute("aria-label") || by || (title ? title.textContent : "")
    || el.innerText || el.textContent || "";
  return [name.trim(), el.outerHTML.slice(0, 200)];
});
"""

#: The fill of every SVG text (axe cannot tell the colour behind one: see test_pages).
_SVG_TEXT = """
return Array.from(document.querySelectorAll("svg text"))
  .map(el => [getComputedStyle(el).fill, el.outerHTML.slice(0, 200)]);
"""


@dataclass(frozen=True)
class Audited:
    """One page as the walk found it."""

    name: str
    endpoint: str
    violations: list[Violation]
    review: list[Violation]  # what axe left undecided
    svg_text: list[tuple[str, str]]  # each SVG text's computed fill and markup
    colour_only: list[str]  # elements that show a status by colour alone
    status_seen: dict[str, int]  # status selector → elements matched


@dataclass
class Walk:
    """The pages of one served app, audited in the order a person reaches them."""

    driver: WebDriver
    app: Flask
    base: str
    pages: dict[str, Audited] = field(default_factory=dict)

    def visit(self, name: str, path: str) -> None:
        self.driver.get(self.base + path)
        self.check(name)

    def click(self, css: str) -> None:
        """Follow a link or press a button and wait for the next page."""
        follow(self.driver, self.driver.find_element(By.CSS_SELECTOR, css))

    def check(self, name: str) -> None:
        """Audit the page the browser shows now as ``name``."""
        assert name not in self.pages, f"two pages named {name!r}"
        found = audit(self.driver, name)
        self.pages[name] = Audited(
            name=name,
            endpoint=self.endpoint(),
            violations=found.violations,
            review=found.review,
            svg_text=[(fill, html) for fill, html in self.driver.execute_script(_SVG_TEXT)],
            colour_only=[],
            status_seen={},
        )
        colour_only, seen = self._status()
        self.pages[name].colour_only.extend(colour_only)
        self.pages[name].status_seen.update(seen)

    def endpoint(self) -> str:
        """The Flask endpoint of the browser's URL (a GET route, else a POST one)."""
        path = urlsplit(self.driver.current_url).path
        adapter = self.app.url_map.bind("localhost")
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except MethodNotAllowed:
            endpoint, _ = adapter.match(path, method="POST")
        return str(endpoint)

    def _status(self) -> tuple[list[str], dict[str, int]]:
        colour_only, seen = [], {}
        for selector, words in STATUS:
            found = self.driver.execute_script(_NAMES, selector)
            seen[selector] = len(found)
            colour_only.extend(
                f"{selector}: {html}" for name, html in found if not re.search(words, name)
            )
        return colour_only, seen
