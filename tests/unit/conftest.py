"""Hypothesis for the property tests of tests/unit: bounded, repeatable and fast by default.

``HYPOTHESIS_PROFILE=explore`` runs each property on many more random examples, to hunt for
new counterexamples (minutes); the default profile derandomizes, so the suite and the
mutation run (scripts/mutation) see the same examples every time, and keeps no database.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from grader.imageref import _parsed

settings.register_profile(
    "unit",
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", max_examples=20_000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "unit"))


@pytest.fixture(autouse=True)
def _image_references_parsed_afresh() -> None:
    """Each test parses its image references itself. The parse cache lives a whole process,
    and the mutation run (scripts/mutation) forks every mutant from a process whose clean run
    filled it: a cached parse would hide each change to the parser from every test."""
    _parsed.cache_clear()
