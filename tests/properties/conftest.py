"""Hypothesis profiles for the property tests.

`ci` (the default) is derandomized: the same examples on every run, so CI is reproducible and a
failure shows up again locally; its example counts keep the suite to a few seconds. For a longer
fuzz with fresh random examples:

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest -p no:cacheprovider tests/properties

(`fuzz` runs 20 times as many examples, randomly seeded, and prints the seed of a failure; add
`--hypothesis-seed=N` to replay one).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = 20 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 1

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
