"""fuzzing.compile: the project's compiler set-up, the ABI check and its one-line errors."""

from __future__ import annotations

import time

import pytest

from fuzzing.artifacts import load_build_artifact
from fuzzing.compile import ContractSourceError, compile_contract, load_channel_manager

NOT_A_MANAGER = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {Part} from "./Part.sol";
contract ChannelManager is Part {
    function hub() external pure returns (address) { return address(0); }
}
"""
PART = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
abstract contract Part { function one() external pure returns (uint256) { return 1; } }
"""


def test_default_contract_compiles_to_the_bytecode_brownie_builds():
    artifact = load_channel_manager()
    built = load_build_artifact("ChannelManager")
    assert artifact.name == "ChannelManager"
    assert artifact.bytecode == built.bytecode
    assert artifact.deployed_bytecode == built.deployed_bytecode


def test_a_file_that_does_not_compile_gives_one_line(tmp_path):
    broken = tmp_path / "Broken.sol"
    broken.write_text("pragma solidity 0.8.30;\ncontract ChannelManager { function f( }\n")
    with pytest.raises(ContractSourceError) as failure:
        load_channel_manager(broken)
    message = str(failure.value)
    assert "\n" not in message
    assert "does not compile" in message and "Broken.sol" in message


def test_a_contract_without_the_abi_is_refused_and_the_cache_follows_imports(tmp_path):
    (tmp_path / "Part.sol").write_text(PART)
    variant = tmp_path / "Variant.sol"
    variant.write_text(NOT_A_MANAGER)
    with pytest.raises(
        ContractSourceError, match="lacks the ChannelManager ABI: missing "
    ) as failure:
        load_channel_manager(variant)
    assert "\n" not in str(failure.value)
    assert "one()" in {fn.signature for fn in compile_contract(variant).codec.functions.values()}
    started = time.monotonic()
    compile_contract(variant)
    assert time.monotonic() - started < 1.0  # served from the cache
    (tmp_path / "Part.sol").write_text(
        PART.replace("one()", "two()").replace("return 1", "return 2")
    )
    signatures = {fn.signature for fn in compile_contract(variant).codec.functions.values()}
    assert "two()" in signatures and "one()" not in signatures  # the changed import recompiled


def test_missing_file_and_ambiguous_contract_are_one_line_errors(tmp_path):
    with pytest.raises(ContractSourceError, match="no such Solidity file"):
        load_channel_manager(tmp_path / "Nothing.sol")
    two = tmp_path / "Two.sol"
    two.write_text("pragma solidity 0.8.30;\ncontract A {}\ncontract B {}\n")
    with pytest.raises(ContractSourceError, match=r"name the contract to test .*A, B"):
        load_channel_manager(two)
    with pytest.raises(ContractSourceError, match="no contract named C"):
        load_channel_manager(two, "C")
