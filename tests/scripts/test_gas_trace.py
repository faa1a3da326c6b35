"""The gas breakdown (research/gas_trace.py) on hand-made struct logs: each step of the
contract's frame is charged the drop in remaining gas to its next step, by class."""

import pytest

from research.gas_trace import CLASSES, breakdown, floor, format_breakdown

TOKEN = "0x00000000000000000000000000000000000000aa"


def step(op, gas, depth=1, cost=3, stack=()):
    return {"op": op, "gas": gas, "gasCost": cost, "depth": depth, "stack": list(stack)}


def call(op, gas, target, value=0):
    # CALL stack, top last: ..., value, address, gas
    return step(op, gas, stack=[hex(value), hex(target), hex(50_000)])


LOGS = [
    step("PUSH1", 100_000),
    step("SLOAD", 99_997),  # 2,100
    call("CALL", 97_897, 0xAA),  # token: 10,000 including its callee's steps
    step("SLOAD", 90_000, depth=2),
    step("STOP", 89_000, depth=2, cost=0),
    call("STATICCALL", 87_897, 1),  # ecrecover: 3,100
    call("CALL", 84_797, 0xBB, value=5),  # ETH payout: 6,800
    step("LOG1", 77_997),  # 1,000
    step("KECCAK256", 76_997),  # 36
    step("TSTORE", 76_961),  # 100
    step("EXTCODESIZE", 76_861),  # 2,600
    step("STOP", 74_261, cost=0),
]


def test_each_class_gets_what_its_steps_cost():
    parts = breakdown(LOGS, gas_limit=121_000, gas_used=45_000, token=TOKEN)
    assert parts["intrinsic"] == 21_000
    assert parts["storage"] == 2_100
    assert parts["token"] == 97_897 - 87_897
    assert parts["signature"] == (87_897 - 84_797) + 2_600
    assert parts["eth"] == 84_797 - 77_997
    assert parts["events"] == 1_000
    assert parts["hashing"] == 36
    assert parts["guard"] == 100
    assert parts["computation"] == 3
    spent = 21_000 + (100_000 - 74_261)
    assert parts["refund"] == 45_000 - spent
    assert sum(parts.values()) == 45_000
    assert floor(parts) == 21_000 + 10_000 + 6_800


def test_a_receipt_larger_than_the_trace_is_an_error():
    with pytest.raises(ValueError, match="receipt says"):
        breakdown(LOGS, gas_limit=121_000, gas_used=90_000, token=TOKEN)


def test_a_deployment_has_no_floor_and_shows_its_code_deposit():
    parts = breakdown(
        [step("STOP", 50_000, cost=0)],
        gas_limit=100_000,
        gas_used=250_000,
        token=TOKEN,
        code_deposit=200_000,
    )
    assert parts["intrinsic"] == 50_000 and parts["code deposit"] == 200_000
    assert parts["refund"] == 0
    assert floor(parts) is None
    table = format_breakdown({0: parts}, {0: "deploy"}, {0: 250_000}, {0: 300_000})
    assert "plus the code deposit" in table and "200,000" in table


def test_the_table_flags_a_floor_above_the_goal():
    parts = breakdown(LOGS, gas_limit=121_000, gas_used=45_000, token=TOKEN)
    low = format_breakdown({1: parts}, {1: "op"}, {1: 45_000}, {1: 50_000})
    high = format_breakdown({1: parts}, {1: "op"}, {1: 45_000}, {1: 60_000})
    assert "floor > goal" in low  # 0.70 × 50,000 = 35,000 < floor 37,800
    assert "floor > goal" not in high
    assert set(CLASSES) <= set(parts)
