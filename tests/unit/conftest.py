"""Hypothesis for the property tests of tests/unit: bounded, repeatable and fast by default.

``HYPOTHESIS_PROFILE=explore`` runs each property on many more random examples, to hunt for
new counterexamples (minutes); the default profile derandomizes, so the suite and the
mutation run (scripts/mutation) see the same examples every time, and keeps no database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
