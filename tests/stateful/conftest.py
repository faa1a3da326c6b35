"""Hypothesis profiles for the stateful tests, and the replay hint printed on failure.

Profiles (registered here, chosen with `--profile NAME` when this conftest is an initial
conftest, i.e. `brownie test tests/stateful ...`, or with `FUZZ_PROFILE=NAME` anywhere):

- `fast` (default, part of the normal run): a few dozen short histories per machine.
- `deep`: hundreds of long histories, for campaigns.

Overrides: `FUZZ_EXAMPLES`, `FUZZ_STEPS` (ints), `FUZZ_SEED` (int: replay a seeded run),
`FUZZ_NO_SHRINK=1` (skip shrinking; the mutation check uses it).
Failures are saved in the project's `.hypothesis/` example database (gitignored) and replayed
first on the next run; every failure prints the seed and the `@reproduce_failure` blob.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

ROOT = Path(__file__).resolve().parents[2]
DATABASE = DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples"))

PROFILES = {
    "fast": {"max_examples": 40, "stateful_step_count": 30},
    "deep": {"max_examples": 400, "stateful_step_count": 80},
}

for _name, _kw in PROFILES.items():
    settings.register_profile(
        f"channel-{_name}",
        deadline=None,
        database=DATABASE,
        print_blob=True,
        report_multiple_bugs=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
        **_kw,
    )

_OPTION_ADDED = False


def pytest_addoption(parser):
    global _OPTION_ADDED
    try:
        parser.addoption(
            "--profile",
            choices=sorted(PROFILES),
            default=None,
            help="hypothesis profile of the stateful tests (default: $FUZZ_PROFILE or 'fast')",
        )
        _OPTION_ADDED = True
    except ValueError:  # already defined elsewhere
        pass


def profile_name(config=None) -> str:
    name = None
    if config is not None:
        try:
            name = config.getoption("--profile")
        except ValueError:
            name = None
    return name or os.environ.get("FUZZ_PROFILE", "fast")


def fuzz_settings(name: str) -> settings:
    """The chosen profile with FUZZ_EXAMPLES / FUZZ_STEPS applied."""
    if name not in PROFILES:
        raise pytest.UsageError(f"unknown fuzz profile {name!r}; choose from {sorted(PROFILES)}")
    overrides = {}
    if os.environ.get("FUZZ_EXAMPLES"):
        overrides["max_examples"] = int(os.environ["FUZZ_EXAMPLES"])
    if os.environ.get("FUZZ_STEPS"):
        overrides["stateful_step_count"] = int(os.environ["FUZZ_STEPS"])
    if os.environ.get("FUZZ_NO_SHRINK"):  # mutation runs: report the first failure as found
        overrides["phases"] = (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(settings.get_profile(f"channel-{name}"), **overrides)


@pytest.fixture(scope="session")
def fuzz_profile(request) -> settings:
    return fuzz_settings(profile_name(request.config))
