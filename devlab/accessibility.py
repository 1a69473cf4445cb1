"""axe-core in the browser: an automated accessibility audit of the page a driver shows.

axe-core is the npm package pinned in ``devlab/axe/package-lock.json`` and installed there
by ``scripts/setup`` (``npm ci``); its ``axe.min.js`` is injected with Selenium and run on
the page as it is, after the server's own scripts and styles. A violation of impact
"serious" or "critical" fails the accessibility tier (tests/a11y); every page's result,
with what axe could not decide alone ("needs review"), is written to artifacts/axe/.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

#: The package's folder: package.json and its lock file, node_modules once set up.
AXE_DIR = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
#: Where every page's full result lands (git-ignored), for a person to read.
REPORTS = Path(__file__).resolve().parents[1] / "artifacts" / "axe"
#: The impacts that fail a page.
BLOCKING = frozenset({"serious", "critical"})

_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations", "incomplete"]})
  .then(result => done({
    violations: result.violations, incomplete: result.incomplete, version: axe.version,
  }))
  .catch(error => done({error: String(error)}));
"""


@dataclass(frozen=True)
class Violation:
    """One element of one page breaking one of axe's rules."""

    page: str
    rule: str
    impact: str
    help: str
    target: str  # axe's CSS selector of the element
    html: str  # the element's opening markup, as axe quotes it
    why: str  # axe's failure summary: what to fix

    def __str__(self) -> str:
        return (
            f"{self.page}: {self.rule} ({self.impact}: {self.help}) at {self.target} "
            f"{' '.join(self.html.split())[:160]} — {' '.join(self.why.split())[:300]}"
        )


def axe_source() -> str:
    """axe.min.js, or a clear failure naming the step that installs it."""
    if not AXE_JS.is_file():
        pytest.fail(
            f"{AXE_JS} not found: run scripts/setup (npm ci in {AXE_DIR.name}/, the version "
            "its package-lock.json pins)",
            pytrace=False,
        )
    return AXE_JS.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Audit:
    """What axe-core said of one page."""

    violations: list[Violation]
    review: list[Violation]  # "incomplete": what axe could not decide alone


def audit(driver: WebDriver, page: str) -> Audit:
    """Every violation axe-core finds on the page ``driver`` shows now, of any impact, and
    what it leaves for review; ``page`` names it in each. Saved under :data:`REPORTS`."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(60)
    result: dict[str, Any] = driver.execute_async_script(_RUN)
    if "error" in result:
        pytest.fail(f"{page}: axe.run failed: {result['error']}", pytrace=False)
    found = Audit(_nodes(page, result["violations"]), _nodes(page, result["incomplete"]))
    REPORTS.mkdir(parents=True, exist_ok=True)
    saved = {"page": page, "url": driver.current_url, "axe": result["version"]}
    saved["violations"] = [asdict(violation) for violation in found.violations]
    saved["needs_review"] = [asdict(violation) for violation in found.review]
    (REPORTS / f"{_file_name(page)}.json").write_text(json.dumps(saved, indent=2) + "\n")
    return found


def _nodes(page: str, rules: list[dict[str, Any]]) -> list[Violation]:
    """One record per element of each rule in axe's result."""
    return [
        Violation(
            page=page,
            rule=rule["id"],
            impact=node.get("impact") or rule.get("impact") or "unknown",
            help=rule["help"],
            target=" ".join(str(part) for part in node["target"]),
            html=node["html"],
            why=node.get("failureSummary") or "",
        )
        for rule in rules
        for node in rule["nodes"]
    ]


def blocking(found: list[Violation]) -> list[Violation]:
    """The violations that fail a page: impact serious or critical."""
    return [violation for violation in found if violation.impact in BLOCKING]


def _file_name(page: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in page).strip("-")
