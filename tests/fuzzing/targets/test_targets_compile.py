"""The rediscovery benchmark's targets: the pre-v3 contract kept as a fuzz target, and the mutant
set of the current contract. Each must compile through fuzzing.compile, carry the ChannelManager
ABI and differ from the current contract's runtime code (metadata aside).

Compiling every mutant takes about 10 s each the first time; later runs read build/fuzzing-cache.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from fuzzing.artifacts import PROJECT_ROOT
from fuzzing.compile import load_channel_manager
from fuzzing.mutants import (
    HAND_WRITTEN,
    Edit,
    Mutant,
    MutantError,
    all_mutants,
    build_mutant,
    generated_mutants,
    strip_metadata,
)

PRE_V3 = PROJECT_ROOT / "fuzz_targets" / "pre_v3_0e20cbd"
HEADER_FIRST_LINE = "// FUZZ TARGET ONLY — the pre-v3 contract with known High/Medium flaws (H-1, M-2, M-1); never deploy."
# SHA-256 of `git show 0e20cbd:<path>` for each file (also in fuzz_targets/pre_v3_0e20cbd/README.md).
COMMIT_TEXT_SHA256 = {
    "contracts/ChannelManager.sol": "3cb24dfb613780489dacc4a111b353ac2f05e30fbea5a6c61220f80a619a6e49",
    "interfaces/IChannelManager.sol": "ba46e67bdc47ed2b12e83ddfb97b3583a4c268534fb4bc39b2b71567ba347f95",
}
MUTANTS = all_mutants()


@pytest.fixture(scope="module")
def v3():
    return load_channel_manager()


def _without_header(text: str) -> str:
    """The file as committed: the SPDX line, then everything from the first non-comment line."""
    lines = text.splitlines(keepends=True)
    body = 1
    while lines[body].startswith("//"):
        body += 1
    return lines[0] + "".join(lines[body:])


@pytest.mark.parametrize("path", sorted(COMMIT_TEXT_SHA256))
def test_pre_v3_files_are_commit_0e20cbd_under_a_fuzz_target_header(path):
    text = (PRE_V3 / path).read_text()
    assert text.splitlines()[1].startswith("// FUZZ TARGET ONLY")
    original = _without_header(text).encode()
    assert hashlib.sha256(original).hexdigest() == COMMIT_TEXT_SHA256[path]


def test_pre_v3_contract_header_names_the_flaws():
    assert (PRE_V3 / "contracts" / "ChannelManager.sol").read_text().splitlines()[
        1
    ] == HEADER_FIRST_LINE


def test_pre_v3_compiles_with_the_channel_manager_abi_and_differs_from_v3(v3):
    artifact = load_channel_manager(PRE_V3 / "contracts" / "ChannelManager.sol")
    assert artifact.name == "ChannelManager"
    assert strip_metadata(artifact.deployed_bytecode) != strip_metadata(v3.deployed_bytecode)


def test_the_mutant_set_covers_every_kind_of_edit():
    kinds = Counter(m.category for m in MUTANTS)
    assert len(MUTANTS) >= 40
    for kind in (
        "rule",
        "time",
        "assembly",
        "unchecked",
        "packing",
        "v3-fix",
        "thread",
        "generated",
    ):
        assert kinds[kind] > 0, kind
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids))
    assert all(m.description and m.rule for m in MUTANTS)


def test_an_edit_must_match_exactly_once():
    mutant = Mutant("probe", "rule", "d", "r", (Edit("x < y", "x <= y"),))
    assert mutant.apply("a; x < y; b") == "a; x <= y; b"
    with pytest.raises(MutantError, match="found 0 times"):
        mutant.apply("nothing here")
    with pytest.raises(MutantError, match="found 2 times"):
        mutant.apply("x < y; x < y")


def test_generated_swaps_touch_only_one_line_guards():
    text = "        if (a > b) revert E(a);\n        if (c <= d) {\n            revert F();\n        }\n"
    mutants = generated_mutants(text)
    assert [m.apply(text).splitlines()[0].strip() for m in mutants] == ["if (a >= b) revert E(a);"]


def test_every_hand_written_mutant_is_in_the_set():
    assert {m.id for m in HAND_WRITTEN} <= {m.id for m in MUTANTS}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_compiles_with_the_abi_and_changes_the_code(mutant, v3):
    artifact = build_mutant(mutant, v3)
    assert strip_metadata(artifact.deployed_bytecode) != strip_metadata(v3.deployed_bytecode)
