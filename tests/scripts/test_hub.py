"""scripts/hub.py: fund and withdraw the reserve, and the contract's state with its disputes."""

from __future__ import annotations

import pytest
from brownie import accounts, chain, web3

from channel_manager.contract_views import channel_details
from scripts import channel, hub
from tests.scripts.helpers import ETHER, records_env, refused, write_record


def test_status_reports_reserve_and_totals(base_env, cm, tdai, capsys):
    info = hub.status(env=base_env)
    assert info["reserve_wei"] == cm.getHubReserveWei() == 100 * ETHER
    assert info["reserve_token"] == cm.getHubReserveTokens() == 100_000 * ETHER
    assert (info["total_channel_wei"], info["total_channel_token"]) == (0, 0)
    assert info["hub"] == accounts[0].address and info["token"] == tdai.address
    assert info["disputes"] == []
    assert "no running disputes" in capsys.readouterr().out


def test_status_lists_disputes_with_deadlines(
    base_env, env_as, cm, deposit, thread_in_dispute, capsys
):
    carol = accounts[3]
    deposit(carol)
    channel.start_exit(carol.address, env=env_as(carol))
    closing = channel_details(cm, carol).closing_time
    alice_closing = channel_details(cm, thread_in_dispute["alice"]).closing_time
    info = hub.status(env=base_env)
    by_kind = {d["kind"]: d for d in info["disputes"]}
    assert by_kind["channel"]["what"] == carol.address and by_kind["channel"]["deadline"] == closing
    assert "started by the user" in by_kind["channel"]["detail"]
    assert by_kind["threads"]["what"] == thread_in_dispute["alice"].address
    assert by_kind["threads"]["deadline"] == alice_closing + 10 * 3600  # nuke deadline
    assert "challenge window closes" in capsys.readouterr().out


def test_fund_adds_to_the_reserve(base_env, env_as, cm, tdai):
    tdai.mint(accounts[4], 50 * ETHER, {"from": accounts[4]})
    txs = hub.fund("2ether", "50ether", env=env_as(accounts[4]))
    assert len(txs) == 2
    assert cm.getHubReserveWei() == 102 * ETHER
    assert cm.getHubReserveTokens() == 100_050 * ETHER


def test_fund_refuses_more_than_the_account_holds(refused_as):
    refused_as(accounts[5], hub.fund, "0", "1ether", expect="holds 0 tokens")
    refused_as(accounts[5], hub.fund, "0", "0", expect="nothing to fund")


def test_wrong_number_of_arguments_is_refused(refused_as):
    """brownie run passes extra words as positional arguments: never into `env`."""
    refused_as(accounts[0], hub.fund, "1", "2", "3", expect="fund: too many positional arguments")


def test_huge_amount_is_refused_without_echoing_it(refused_as):
    err = refused_as(
        accounts[0], hub.fund, "1" + "0" * 400, "0", expect="is above the largest amount"
    )
    assert len(err) < 150


def test_status_needs_no_account_hub_or_token(base_env, deployed, tmp_path):
    """Read-only: a network entry without hub, token or account (like sepolia's) is enough."""
    config = tmp_path / "config.yaml"
    config.write_text("development:\n  chain_id: 31337\n")
    info = hub.status(env={**base_env, "CM_CONFIG": str(config)})
    assert info["address"] == deployed["address"]


def test_withdraw_pays_the_hub(env_as, cm):
    before = accounts[0].balance()
    tx = hub.withdraw("3ether", "0", env=env_as(accounts[0]))
    assert tx.events["DidHubContractWithdraw"]["weiAmount"] == 3 * ETHER
    assert cm.getHubReserveWei() == 97 * ETHER
    assert accounts[0].balance() == before + 3 * ETHER  # the local chain charges no gas price


@pytest.mark.parametrize(
    "account, wei, fragments",
    [
        (1, "1ether", ["only the hub", "the account is 0x"]),
        (0, "101ether", ["InsufficientReserve: requested 101, reserve 100", "fund it first"]),
        (0, "lots", ["not an amount"]),
    ],
    ids=["not-hub", "over-reserve", "bad-amount"],
)
def test_withdraw_refusals_send_nothing(account, wei, fragments, refused_as):
    sender = accounts[account]
    refused_as(sender, hub.withdraw, wei, "0", expect=tuple(fragments))


def test_withdraw_dry_run_sends_nothing(env_as, cm, capsys):
    height = web3.eth.block_number
    assert hub.withdraw("1ether", "0", env=env_as(accounts[0], CM_DRY_RUN="1")) is None
    assert web3.eth.block_number == height and cm.getHubReserveWei() == 100 * ETHER
    assert "dry run: would send" in capsys.readouterr().out


def test_without_record_or_address_nothing_is_found(tmp_path, capsys):
    refused(capsys, lambda: hub.status(env=records_env(tmp_path)), "no deployment record")
    refused(
        capsys,
        lambda: hub.status(
            env={"CM_DEPLOYMENTS_DIR": str(tmp_path), "CM_MANAGER": accounts[1].address}
        ),
        "has no code",
    )
    assert chain.id == 31337


def test_record_of_a_reset_chain_is_not_used(tmp_path, deployed, capsys):
    write_record(tmp_path, dict(deployed, block_hash="0x" + "00" * 32))
    refused(capsys, lambda: hub.status(env=records_env(tmp_path)), "does not match this chain")
