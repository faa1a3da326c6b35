"""The suite's fixtures live in tests/fixtures/ (catalogue: tests/README.md); this file only
loads them. Folder conftests add scenario fixtures of their own and define no helpers."""

pytest_plugins = [
    "tests.fixtures.deployments",
    "tests.fixtures.channels",
    "tests.fixtures.signatures",
    "tests.fixtures.threads",
    "tests.fixtures.solvency",
    "tests.fixtures.fuzz_profiles",
    "tests.fixtures.confirmation_race",
]
