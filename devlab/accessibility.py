"""axe-core in the browser: an automated accessibility audit of the page a driver shows.

axe-core is the npm package pinned in ``devlab/axe/package-lock.json`` and installed there
by ``scripts/setup`` (``npm ci``); its ``axe.min.js`` is injected with Selenium and run on
the page as it is, after the server's own scripts and styles. A violation of impact
"serious" or "critical" fails the accessibility tier (tests/a11y); the lesser ones are
written beside the screenshots for a person to read.
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
axe.run(document, {resultTypes: ["violations"]})
  .then(result => done({violations: result.violations, version: axe.version}))
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
            f"{self.html[:160]} — {' '.join(self.why.split())[:300]}"
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


def audit(driver: WebDriver, page: str) -> list[Violation]:
    """Every violation axe-core finds on the page ``driver`` shows now, of any impact;
    ``page`` names it in each one. The full result is saved under :data:`REPORTS`."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source())
    driver.set_script_timeout(60)
    result: dict[str, Any] = driver.execute_async_script(_RUN)
    if "error" in result:
        pytest.fail(f"{page}: axe.run failed: {result['error']}", pytrace=False)
    found = [
        Violation(
            page=page,
            rule=rule["id"],
            impact=node.get("impact") or rule.get("impact") or "unknown",
            help=rule["help"],
            target=" ".join(str(part) for part in node["target"]),
            html=node["html"],
            why=node.get("failureSummary", ""),
        )
        for rule in result["violations"]
        for node in rule["nodes"]
    ]
    REPORTS.mkdir(parents=True, exist_ok=True)
    saved = {"page": page, "url": driver.current_url, "axe": result["version"]}
    saved["violations"] = [asdict(violation) for violation in found]
    (REPORTS / f"{_file_name(page)}.json").write_text(json.dumps(saved, indent=2) + "\n")
    return found


def blocking(found: list[Violation]) -> list[Violation]:
    """The violations that fail a page: impact serious or critical."""
    return [violation for violation in found if violation.impact in BLOCKING]


def _file_name(page: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in page).strip("-")
