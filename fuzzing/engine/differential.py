"""`--oracle model|both`: every step is also played on the reference model
(channel_manager/model.py) and the two must agree: the same outcome (success, or the same custom
error with the same arguments) and, after a success, the same views of every channel and thread
the step touched, the same totals, credits and contract balances.

A disagreement names the function and what differed (`model-disagreement:<function>`). This
oracle can only find places where the contract and the model differ; a bug they share is left
to the properties, which is why "both" is the thorough setting.
"""

from __future__ import annotations

from typing import Any

from channel_manager import errors as E
from channel_manager.model import ChannelManagerModel, EcdsaOracle
from channel_manager.model import World as ModelWorld
from channel_manager.states import ChannelState, ThreadState
from fuzzing.engine.calls import Call
from fuzzing.engine.properties import PropertyFailure

DELEGATION_PREFIX = bytes.fromhex("ef0100")


class ModelDifferential:
    def __init__(self, ep: Any) -> None:
        self.ep = ep
        w = ep.world
        self.world = w
        self.model_world = ModelWorld()
        self.signatures = EcdsaOracle({})
        self.model = ChannelManagerModel(
            w.hub,
            w.config.challenge_period,
            w.manager.address,
            chain_id=w.chain.chain_id,
            signatures=self.signatures,
            world=self.model_world,
            token=w.token.address,
        )
        g = ep.oracle.globals
        self.model.receive_eth(g.eth)
        self.model.receive_tokens(g.token)
        self._expected: tuple[str, Any] | None = None
        self.enabled = True

    @classmethod
    def factory(cls, check_properties: bool) -> Any:
        def make(ep: Any) -> ModelDifferential:
            diff = cls(ep)
            ep.oracle.enabled = check_properties
            return diff

        return make

    # ------------------------------------------------------------------ the outside world
    def _sync_code(self) -> None:
        """Delegated addresses: code refusing ERC-1271 (both helpers do), and refusing ETH
        (the RejectingRecipient, which claims may also be sent to)."""
        chain = self.world.chain
        refuses, wallets = {self.world.rejecter.address}, {}
        for p in self.world.parties:
            code = chain.code(p.address)
            if not code:
                continue
            wallets[p.address] = set()
            if code.startswith(DELEGATION_PREFIX) and code[3:] == bytes.fromhex(
                self.world.rejecter.address[2:]
            ):
                refuses.add(p.address)
        self.model_world.refuses_eth = refuses
        self.signatures.erc1271 = wallets
        # The hostile token: a refusal by revert and by `false` are the same to the protocol.
        self.model_world.refuses_token = {a for a, how in self.world.token_refusals.items() if how}
        self.model_world.token_fee = self.world.token_fee

    # ------------------------------------------------------------------ one step
    def before(self, call: Call) -> None:
        self._sync_code()
        now = self.ep.chain.time
        try:
            outcome = self._play(call, now)
            self._expected = ("ok", outcome)
        except E.ChannelError as exc:
            self._expected = ("error", exc)

    def _play(self, call: Call, now: int) -> Any:
        m, a, caller = self.model, call.args, call.sender
        fn = call.fn
        if fn == "receive":
            m.receive_eth(call.value)
            return None
        if fn == "hubContractWithdraw":
            return m.hub_contract_withdraw(caller, now, *a)
        if fn == "hubAuthorizedUpdate":
            return m.hub_authorized_update(caller, now, ChannelState.from_tuple(a[0]), bytes(a[1]))
        if fn == "userAuthorizedUpdate":
            return m.user_authorized_update(
                caller, now, ChannelState.from_tuple(a[0]), bytes(a[1]), call.value
            )
        if fn in ("startExit", "emptyChannel", "nukeThreads"):
            method = {
                "startExit": m.start_exit,
                "emptyChannel": m.empty_channel,
                "nukeThreads": m.nuke_threads,
            }[fn]
            return method(caller, now, a[0])
        if fn in ("startExitWithUpdate", "emptyChannelWithChallenge"):
            method = (
                m.start_exit_with_update
                if fn == "startExitWithUpdate"
                else m.empty_channel_with_challenge
            )
            return method(caller, now, ChannelState.from_tuple(a[0]), bytes(a[1]), bytes(a[2]))
        if fn in ("startExitThread", "emptyThread", "startExitThreadWithUpdate"):
            # (user, initial, proof, signature[, update, its signature])
            thread_args = (
                a[0],
                ThreadState.from_tuple(a[1]),
                [bytes(x) for x in a[2]],
                bytes(a[3]),
            )
            if fn == "startExitThreadWithUpdate":
                update = (ThreadState.from_tuple(a[4]), bytes(a[5]))
                return m.start_exit_thread_with_update(caller, now, *thread_args, *update)
            method = m.start_exit_thread if fn == "startExitThread" else m.empty_thread
            return method(caller, now, *thread_args)
        if fn == "challengeThread":
            return m.challenge_thread(caller, now, ThreadState.from_tuple(a[0]), bytes(a[1]))
        if fn == "claim":
            return m.claim(caller, now, a[0])
        raise ValueError(f"the model has no counterpart for {fn}")

    def after(self, call: Call, result: Any) -> None:
        kind, value = self._expected or ("ok", None)
        fn = call.fn
        name = f"model-disagreement:{fn}"
        if kind == "error":
            if result.success:
                raise PropertyFailure(
                    name,
                    f"the contract accepted {call.label!r}; the model expected "
                    f"{value.revert_text()}",
                )
            if result.revert_text() != value.revert_text():
                raise PropertyFailure(
                    name,
                    f"{call.label!r}: the contract reverted {result.revert_text()}, the model "
                    f"expected {value.revert_text()}",
                )
            return
        if not result.success:
            raise PropertyFailure(
                name,
                f"{call.label!r}: the contract reverted {result.revert_text()}, the model "
                f"accepted it",
            )
        self._compare(call, name)

    # ------------------------------------------------------------------ state comparison
    def _compare(self, call: Call, name: str) -> None:
        oracle, m = self.ep.oracle, self.model
        g = oracle.globals
        ours = (m.eth_balance, m.token_balance, m.total_channel_wei, m.total_channel_token)
        theirs = (g.eth, g.token, g.total_wei, g.total_token)
        if ours != theirs:
            raise PropertyFailure(
                name, f"after {call.label!r}: contract (ETH, tokens, totals) {theirs}, model {ours}"
            )
        for user in call.users:
            v = oracle.views[user]
            ch = m.channel(user)
            model_view = (
                ch.wei_hub,
                ch.wei_user,
                ch.wei_total,
                ch.token_hub,
                ch.token_user,
                ch.token_total,
                ch.tx_count_global,
                ch.tx_count_chain,
                bytes(ch.thread_root),
                ch.thread_count,
                m.exit_initiator(user),
                ch.closing_time,
                int(ch.status),
            )
            if tuple(v[:13]) != model_view:
                raise PropertyFailure(
                    name,
                    f"after {call.label!r}: {self.world.name(user)}'s channel is {tuple(v[:13])} "
                    f"on the contract, {model_view} in the model",
                )
            credits = (m.credit_wei.get(user, 0), m.credit_token.get(user, 0))
            if (
                call.fn
                in (
                    "emptyChannel",
                    "emptyChannelWithChallenge",
                    "emptyThread",
                    "nukeThreads",
                    "claim",
                )
                and (v.credit_wei, v.credit_token) != credits
            ):
                raise PropertyFailure(
                    name,
                    f"after {call.label!r}: {self.world.name(user)}'s credits "
                    f"{(v.credit_wei, v.credit_token)} on the contract, {credits} in the model",
                )
        if call.thread is not None:
            tv = oracle.thread_views[call.thread]
            t = m.thread(*call.thread)
            model_thread = (
                (t.wei_sender, t.wei_receiver),
                (t.token_sender, t.token_receiver),
                t.tx_count,
                t.closing_time,
                (t.sender_emptied, t.receiver_emptied),
            )
            if tuple(tv) != model_thread:
                raise PropertyFailure(
                    name,
                    f"after {call.label!r}: thread record {tuple(tv)} on the contract, "
                    f"{model_thread} in the model",
                )
