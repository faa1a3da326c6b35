"""channel_manager.ops without a chain: settings, bounds, addresses, amounts, envelopes."""

from __future__ import annotations

import json

import pytest

from channel_manager.devkeys import anvil_key
from channel_manager.eip712 import Domain
from channel_manager.ops import OpsError
from channel_manager.ops.display import fmt_units
from channel_manager.ops.envelopes import (
    channel_envelope,
    load_envelope,
    parse_envelope,
    thread_envelope,
    write_envelope,
)
from channel_manager.ops.inputs import (
    MIN_PUBLIC_CHALLENGE_PERIOD,
    check_challenge_period,
    flag,
    parse_address,
    parse_amount,
)
from channel_manager.ops.prechecks import (
    check_channel_signatures,
    check_channel_state,
    check_envelope_domain,
    check_thread_signature,
)
from channel_manager.ops.refusals import explain
from channel_manager.ops.settings import (
    FLAGS,
    check_flags,
    load_config,
    parse_account_spec,
    require_account,
    resolve_settings,
)
from channel_manager.signing import sign_channel_state
from channel_manager.states import ChannelState, ThreadState

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
HUB = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
DOMAIN = Domain(31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
CONFIG = {
    "development": {
        "chain_id": 31337,
        "hub": "deployer",
        "token": "test-token",
        "challenge_period": 60,
        "account": "local:0",
        "fund_reserve": {"wei": "1ether"},
    },
    "networks": {
        "mainnet": {
            "chain_id": 1,
            "hub": None,
            "token": "0x6B175474E89094C44Da98b954EedeAC495271d0F",
            "challenge_period": 86400,
            "account": "keystore:cm",
        }
    },
}


@pytest.mark.parametrize(
    "seconds, development, ok",
    [
        (1, True, True),
        (0, True, False),
        (3599, False, False),
        (3600, False, True),
        (365 * 86400, False, True),
        (365 * 86400 + 1, True, False),
    ],
)
def test_challenge_period_bounds(seconds, development, ok):
    if ok:
        assert check_challenge_period(seconds, development=development) == seconds
    else:
        with pytest.raises(OpsError, match="challenge period"):
            check_challenge_period(seconds, development=development)


def test_addresses():
    assert parse_address(ALICE.lower(), "user") == ALICE
    for bad, message in [
        ("", "not set"),
        ("0x12", "not an address"),
        ("0x" + "0" * 40, "zero address"),
        (ALICE[:-1] + "9", "wrong checksum"),
    ]:
        with pytest.raises(OpsError, match=message):
            parse_address(bad, "user")


@pytest.mark.parametrize(
    "text, value",
    [
        ("0", 0),
        ("123", 123),
        ("1.5ether", 15 * 10**17),
        ("2 gwei", 2 * 10**9),
        ("10e18", 10 * 10**18),
        ("1_000", 1000),
    ],
)
def test_amounts(text, value):
    assert parse_amount(text, "amount") == value


@pytest.mark.parametrize("text", ["-1", "abc", "1.5", "0.1wei", "1e"])
def test_bad_amounts(text):
    with pytest.raises(OpsError, match="amount"):
        parse_amount(text, "amount")


def test_settings_for_local_chains_and_overrides():
    s = resolve_settings(CONFIG, "anvil-h5", development=True, env={})
    assert (s.hub, s.token, s.challenge_period, s.fund_reserve_wei) == (
        "deployer",
        "test-token",
        60,
        10**18,
    )
    s = resolve_settings(
        CONFIG, "anvil", development=True, env={"CM_HUB": ALICE, "CM_CHALLENGE_PERIOD": "90"}
    )
    assert (s.hub, s.challenge_period, s.sources["hub"]) == (ALICE, 90, "env CM_HUB")


def test_public_network_settings_need_the_hub_and_refuse_local_things():
    with pytest.raises(OpsError, match="hub address for 'mainnet' is not set"):
        resolve_settings(CONFIG, "mainnet", development=False, env={})
    s = resolve_settings(CONFIG, "mainnet", development=False, env={"CM_HUB": ALICE})
    assert (s.chain_id, s.token, s.challenge_period, s.confirmations) == (
        1,
        CONFIG["networks"]["mainnet"]["token"],
        86400,
        2,
    )
    with pytest.raises(OpsError, match="local chains only"):
        resolve_settings(
            CONFIG, "mainnet", development=False, env={"CM_HUB": ALICE, "CM_TOKEN": "test-token"}
        )
    with pytest.raises(OpsError, match="below the minimum of 3600 s on a public network"):
        resolve_settings(
            CONFIG, "mainnet", development=False, env={"CM_HUB": ALICE, "CM_CHALLENGE_PERIOD": "60"}
        )
    with pytest.raises(OpsError, match="has no entry"):
        resolve_settings(CONFIG, "sepolia", development=False, env={})
    with pytest.raises(OpsError, match="local chains only"):
        parse_account_spec("local:0", development=False)


def test_repository_config_is_valid():
    config = load_config(
        __import__("pathlib").Path(__file__).resolve().parents[2] / "deployments" / "config.yaml"
    )
    dev = resolve_settings(config, "anvil", development=True, env={})
    assert (dev.token, dev.hub, dev.chain_id) == ("test-token", "deployer", 31337)
    main = resolve_settings(config, "mainnet", development=False, env={"CM_HUB": ALICE})
    assert main.token == "0x6B175474E89094C44Da98b954EedeAC495271d0F"  # Dai
    assert main.challenge_period >= MIN_PUBLIC_CHALLENGE_PERIOD
    with pytest.raises(OpsError, match="CM_TOKEN"):
        resolve_settings(config, "sepolia", development=False, env={"CM_HUB": ALICE})


def _state(**fields) -> ChannelState:
    return ChannelState(ALICE, ALICE, **{"wei_balances": (1, 2), "tx_count": (3, 1), **fields})


def test_envelope_round_trip(tmp_path):
    state = _state()
    sig_hub = sign_channel_state(anvil_key(0), DOMAIN, state)
    sig_user = sign_channel_state(anvil_key(1), DOMAIN, state)
    path = tmp_path / "s.json"
    write_envelope(path, channel_envelope(state, sig_hub, sig_user, DOMAIN))
    env = load_envelope(path)
    assert (env.kind, env.channel, env.sig_hub, env.sig_user) == (
        "channel",
        state,
        sig_hub,
        sig_user,
    )
    check_envelope_domain(env, DOMAIN)
    check_channel_signatures(env, DOMAIN, HUB, need_hub=True, need_user=True)
    with pytest.raises(OpsError, match="signed for chain 31337, this is chain 1"):
        check_envelope_domain(env, Domain(1, DOMAIN.verifying_contract))
    swapped = parse_envelope(channel_envelope(state, sig_user, sig_hub), "f")
    with pytest.raises(OpsError, match="hub's signature recovers to"):
        check_channel_signatures(swapped, DOMAIN, HUB, need_hub=True, need_user=True)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "does not parse as JSON"),
        ("[]", "expected a JSON object"),
        ('{"kind": "channel"}', "missing `state`"),
        ('{"kind": "coin", "state": {}}', "`kind` must be"),
        (
            '{"kind": "channel", "state": {"user": "0x12", "recipient": "0x12"}}',
            "not a valid state envelope",
        ),
        (
            f'{{"kind": "channel", "state": {{"user": "{ALICE}", "recipient": "{ALICE}", "wei_balances": ["1"]}}}}',
            "expected 2 integers",
        ),
        (
            f'{{"kind": "channel", "state": {{"user": "{ALICE}", "recipient": "{ALICE}"}}, "sig_hub": "zz"}}',
            "hex string",
        ),
        (
            f'{{"kind": "thread", "state": {{"sender": "{ALICE}", "receiver": "{HUB}", "thread_id": "1"}}}}',
            "missing the sender's signature",
        ),
        (
            f'{{"kind": "channel", "state": {{"user": "{ALICE}", "recipient": "{ALICE}"}}, "extra": 1}}',
            "unknown fields",
        ),
    ],
    ids=[
        "json",
        "not-object",
        "no-state",
        "kind",
        "address",
        "array-length",
        "sig-hex",
        "thread-sig",
        "unknown",
    ],
)
def test_bad_envelopes(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(OpsError, match=message) as info:
        load_envelope(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_file():
    with pytest.raises(OpsError, match="cannot be read"):
        load_envelope("/nonexistent/state.json")


def test_state_checks():
    root_without_count = parse_envelope(channel_envelope(_state(thread_root=b"\x01" * 32)), "f")
    with pytest.raises(OpsError, match="zero thread root"):
        check_channel_state(root_without_count)
    too_big = parse_envelope(channel_envelope(_state(token_balances=(2**128, 0))), "f")
    with pytest.raises(OpsError, match="ValueTooLarge"):
        check_channel_state(too_big)
    thread = parse_envelope(thread_envelope(ThreadState(ALICE, HUB, 1, (5, 0)), b"\x00" * 65), "f")
    with pytest.raises(OpsError, match="expected a channel state"):
        _ = thread.channel
    with pytest.raises(OpsError, match="malformed"):
        check_thread_signature(thread, DOMAIN)


def test_flags():
    assert flag({"X": "1"}, "X") and not flag({}, "X") and not flag({"X": "no"}, "X")
    with pytest.raises(OpsError, match="X='maybe'"):
        flag({"X": "maybe"}, "X")


def test_json_amounts_are_strings():
    data = channel_envelope(_state(wei_balances=(2**100, 0)))
    assert json.loads(json.dumps(data))["state"]["wei_balances"] == [str(2**100), "0"]


def test_read_only_settings_need_no_hub_token_or_account():
    """verify, status and show read the hub and token from the contract: a network entry that
    leaves them unset (sepolia's) is enough, and a stated one is still checked."""
    s = resolve_settings(CONFIG, "mainnet", development=False, env={}, deploying=False)
    assert (s.hub, s.token, s.account) == (
        None,
        CONFIG["networks"]["mainnet"]["token"],
        "keystore:cm",
    )
    with pytest.raises(OpsError, match="hub '0x12' is not an address"):
        resolve_settings(
            CONFIG, "mainnet", development=False, env={"CM_HUB": "0x12"}, deploying=False
        )
    bare = {"networks": {"x": {"chain_id": 5}}}
    s = resolve_settings(bare, "x", development=False, env={}, deploying=False)
    assert (s.hub, s.token, s.challenge_period, s.account) == (None, None, None, "")
    with pytest.raises(OpsError, match="no account for 'x'"):
        require_account(s)


def test_fee_and_wait_settings():
    env = {
        "CM_HUB": ALICE,
        "CM_MAX_FEE": "30 gwei",
        "CM_PRIORITY_FEE": "1.5gwei",
        "CM_TX_TIMEOUT": "90",
    }
    s = resolve_settings(CONFIG, "mainnet", development=False, env=env)
    assert (s.max_fee, s.priority_fee, s.gas_price, s.tx_timeout) == (
        30 * 10**9,
        15 * 10**8,
        None,
        90,
    )
    assert s.sources["max_fee"] == "env CM_MAX_FEE"
    assert (
        resolve_settings(CONFIG, "mainnet", development=False, env={"CM_HUB": ALICE}).tx_timeout
        == 600
    )
    with pytest.raises(OpsError, match="confirmations 'x' is not a whole number"):
        resolve_settings(
            CONFIG, "mainnet", development=False, env={"CM_HUB": ALICE, "CM_CONFIRMATIONS": "x"}
        )


def test_every_flag_is_checked_up_front():
    check_flags({"CM_DRY_RUN": "1", "CM_YES": "no", "CM_FORCE": "", "CM_REPLACE": "0"})
    for name in FLAGS:
        with pytest.raises(OpsError, match=f"{name}='maybe'"):
            check_flags({name: "maybe"})


def test_huge_amounts_are_refused_in_one_short_line():
    for text in ("1e400", "9" * 400, str(2**256)):
        with pytest.raises(OpsError, match="above the largest amount") as info:
            parse_amount(text, "amount")
        assert len(str(info.value)) < 120
    assert parse_amount(str(2**256 - 1), "amount") == 2**256 - 1


def test_amount_errors_are_explained_in_fmt_units():
    from channel_manager import errors as E

    text = explain(E.InsufficientReserve(101 * 10**18, 100 * 10**18))
    assert text.startswith("InsufficientReserve: requested 101, reserve 100 (in units of 10^18")
    assert "fund it first" in text
    assert fmt_units(15 * 10**17) == "1.5" and fmt_units(10**40) == "1.000e+22"
