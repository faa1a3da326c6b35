"""Executable reference model of ChannelManager: the same storage, rules, check order and error
names as the contract, with no chain. It is the oracle of the stateful tests (every call made on
the chain is also made here and both outcomes must agree) and fast enough to fuzz on its own.

Conventions:
- Every public method takes `caller` and `now` (the block timestamp the call runs at) first.
- A broken rule raises the `channel_manager.errors` exception of the same name, *before* any
  state changes (the model keeps the contract's all-or-nothing semantics by checking first and
  mutating after, exactly like the contract's checks → effects → interactions).
- Signatures are checked by an injected `SignatureOracle`: by default real EIP-712 + ECDSA
  recovery (`EcdsaOracle`), key signatures first and ERC-1271 only for a signer with code
  whose key signature failed (docs/protocol.md §3); fuzzers can inject a cheap deterministic one.
- The outside world (who refuses ETH, which token transfers fail or deliver less) is described
  by a `World` object so refused payouts and shortfalls can be modelled.

Why one file of about 800 lines: `ChannelManagerModel` mirrors the one contract function for
function, guard for guard, in the contract's check order; split across files, a reader checking
one call against contracts/ChannelManager.sol would have to follow its checks and effects
through several modules. The shared rules it uses live elsewhere (`rules.check_storable`,
`transitions.settle`, `merkle.verify`, `signing`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from channel_manager import errors as E
from channel_manager.aliases import (
    MAX_AMOUNT,
    MAX_CHALLENGE_PERIOD,
    MAX_THREAD_AMOUNT,
    MAX_TX_COUNT,
    ZERO_ADDRESS,
    ZERO_BYTES32,
)
from channel_manager.contract_views import ChannelStatus
from channel_manager.eip712 import Domain, channel_digest, thread_digest, thread_struct_hash
from channel_manager.merkle import verify as merkle_verify
from channel_manager.rules import check_storable
from channel_manager.signing import SECP256K1_N, recover
from channel_manager.states import ChannelState, ThreadState
from channel_manager.transitions import settle

NUKE_PERIODS = 10


# The model's channels carry the contract's own status enum; `Status` is the short name the
# model's callers (stateful tests, fuzzers) use for it.
Status = ChannelStatus


class Initiator(enum.IntEnum):
    NONE = 0
    HUB = 1
    USER = 2


@dataclass(slots=True)
class Channel:
    wei_hub: int = 0
    wei_user: int = 0
    token_hub: int = 0
    token_user: int = 0
    wei_total: int = 0
    token_total: int = 0
    tx_count_global: int = 0
    tx_count_chain: int = 0
    closing_time: int = 0
    thread_count: int = 0
    status: Status = Status.OPEN
    initiator: Initiator = Initiator.NONE
    thread_root: bytes = ZERO_BYTES32

    def copy(self) -> Channel:
        return Channel(**{k: getattr(self, k) for k in self.__slots__})


@dataclass(slots=True)
class Thread:
    """A thread's dispute record. Its sums (sender + receiver of each asset) are those of the
    initial state it was started from, and never change: that is what binds the record to its
    initial state (docs/protocol.md §8, `ThreadMismatch`)."""

    wei_sender: int = 0
    token_sender: int = 0
    wei_receiver: int = 0
    token_receiver: int = 0
    tx_count: int = 0
    closing_time: int = 0
    sender_emptied: bool = False
    receiver_emptied: bool = False


class SignatureOracle(Protocol):
    def is_valid_key_signature(self, signer: str, digest: bytes, signature: bytes) -> bool: ...

    def is_valid_signature(self, signer: str, digest: bytes, signature: bytes) -> bool: ...


def key_signature_form_ok(signature: bytes) -> bool:
    """OpenZeppelin `ECDSA.tryRecover`'s form rule: 65 bytes, v in {27, 28}, s <= n/2."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return False
    return int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2


class EcdsaOracle:
    """Real verification: 65-byte low-s ECDSA for keys; signers with code also through `erc1271`.

    `erc1271` maps a signer that has code to what its `isValidSignature` accepts: either an
    owner address (the wallet accepts a key signature of its owner, like
    `contracts/test/StatefulRejectingUser.sol`) or a set of accepted `digest` or
    `digest + signature` byte strings (an empty set: a wallet that answers every query "no",
    like an EOA delegated by EIP-7702 to `contracts/test/RevokingDelegate.sol`).
    A user's or thread sender's key signature that recovers to its address is accepted whether
    or not the address has code; only when it does not is a registered signer asked through
    ERC-1271 (docs/protocol.md §3: a signature once given cannot be revoked by new code).
    """

    def __init__(self, erc1271: dict[str, str | set[bytes]] | None = None) -> None:
        self.erc1271 = erc1271 or {}

    def is_valid_key_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        # eth-keys recovers high-s signatures too; the contract refuses them (docs/protocol.md §3).
        if not key_signature_form_ok(signature):
            return False
        try:
            recovered = recover(digest, signature)
        except Exception:
            return False
        return recovered == signer and recovered != ZERO_ADDRESS

    def is_valid_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        if self.is_valid_key_signature(signer, digest, signature):
            return True
        wallet = self.erc1271.get(signer)
        if wallet is None:  # no code: nobody else to ask
            return False
        if isinstance(wallet, str):
            return self.is_valid_key_signature(wallet, digest, signature)
        return digest in wallet or digest + signature in wallet


class TableOracle:
    """Cheap deterministic oracle for fuzzing the model alone: a signature is valid when it is
    `b"sig:" + signer-address-bytes + digest[:8]` (the exact bytes a `sign()` returns)."""

    @staticmethod
    def sign(signer: str, digest: bytes) -> bytes:
        return b"sig:" + bytes.fromhex(signer[2:]) + digest[:8]

    def is_valid_key_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        return signature == self.sign(signer, digest)

    def is_valid_signature(self, signer: str, digest: bytes, signature: bytes) -> bool:
        return signature == self.sign(signer, digest)


@dataclass
class World:
    """What the model cannot know by itself: recipients' and the token's behaviour."""

    refuses_eth: set[str] = field(default_factory=set)
    refuses_token: set[str] = field(default_factory=set)  # blacklisted by the token
    token_fee: int = 0  # units kept back on every pull (fee-on-transfer tokens)

    def eth_accepted(self, to: str) -> bool:
        return to not in self.refuses_eth

    def token_accepted(self, to: str) -> bool:
        return to not in self.refuses_token


@dataclass
class Outcome:
    """Money that left the contract in one call, and credits recorded."""

    paid_wei: dict[str, int] = field(default_factory=dict)
    paid_token: dict[str, int] = field(default_factory=dict)
    credited: dict[str, tuple[int, int]] = field(default_factory=dict)

    def pay(self, to: str, wei: int, token: int) -> None:
        if wei:
            self.paid_wei[to] = self.paid_wei.get(to, 0) + wei
        if token:
            self.paid_token[to] = self.paid_token.get(to, 0) + token


def _thread_key(sender: str, receiver: str, thread_id: int) -> tuple[str, str, int]:
    return (sender, receiver, thread_id)


class ChannelManagerModel:
    """The contract's state and behaviour. `address` is the contract's own address."""

    def __init__(
        self,
        hub: str,
        challenge_period: int,
        address: str,
        chain_id: int = 31337,
        signatures: SignatureOracle | None = None,
        world: World | None = None,
        token_has_code: bool = True,
        token: str = ZERO_ADDRESS,
    ) -> None:
        if (
            hub == ZERO_ADDRESS
            or not 1 <= challenge_period <= MAX_CHALLENGE_PERIOD
            or not token_has_code
        ):
            raise E.InvalidConfiguration(hub, challenge_period, token)
        self.hub = hub
        self.challenge_period = challenge_period
        self.address = address
        self.domain = Domain(chain_id, address)
        self.signatures: SignatureOracle = signatures or EcdsaOracle()
        self.world = world or World()
        self.eth_balance = 0  # contract's ETH
        self.token_balance = 0  # contract's tokens
        self.total_channel_wei = 0
        self.total_channel_token = 0
        self.total_credit_wei = 0
        self.total_credit_token = 0
        self.channels: dict[str, Channel] = {}
        self.threads: dict[tuple[str, str, int], Thread] = {}
        self.credit_wei: dict[str, int] = {}
        self.credit_token: dict[str, int] = {}

    # ---------------------------------------------------------------- views

    def channel(self, user: str) -> Channel:
        return self.channels.get(user, Channel())

    def thread(self, sender: str, receiver: str, thread_id: int) -> Thread:
        return self.threads.get(_thread_key(sender, receiver, thread_id), Thread())

    def reserve_wei(self, in_flight: int = 0) -> int:
        owed = self.total_channel_wei + self.total_credit_wei + in_flight
        return max(self.eth_balance - owed, 0)

    def reserve_tokens(self) -> int:
        return max(self.token_balance - self.total_channel_token - self.total_credit_token, 0)

    def exit_initiator(self, user: str) -> str:
        initiator = self.channel(user).initiator
        return {Initiator.NONE: ZERO_ADDRESS, Initiator.HUB: self.hub, Initiator.USER: user}[
            initiator
        ]

    # ---------------------------------------------------------------- deposits to the reserve

    def receive_eth(self, amount: int) -> None:
        self.eth_balance += amount

    def receive_tokens(self, amount: int) -> None:
        self.token_balance += amount

    # ---------------------------------------------------------------- hub reserve

    def hub_contract_withdraw(self, caller: str, now: int, wei: int, token: int) -> Outcome:
        self._require_hub(caller)
        if wei and wei > self.reserve_wei():
            raise E.InsufficientReserve(wei, self.reserve_wei())
        if token and token > self.reserve_tokens():
            raise E.InsufficientReserve(token, self.reserve_tokens())
        if wei and not self.world.eth_accepted(caller):
            raise E.TransferFailed(caller)
        if token and not self.world.token_accepted(caller):
            raise E.TransferFailed(caller)
        self.eth_balance -= wei
        self.token_balance -= token
        out = Outcome()
        out.pay(caller, wei, token)
        return out

    # ---------------------------------------------------------------- authorized updates

    def hub_authorized_update(
        self, caller: str, now: int, s: ChannelState, sig_user: bytes
    ) -> Outcome:
        self._require_hub(caller)
        ch = self._open_channel(s.user)
        self._require_recipient_not_self(s.recipient)
        self._require_authorized_update(ch, s, now)
        pw, pt = s.pending_wei_updates, s.pending_token_updates
        self._require_reserve(pw[0] + pw[2], pt[0] + pt[2], 0)
        self._require_channel_funds(ch, s)
        digest = channel_digest(self.domain, s)
        if not self.signatures.is_valid_signature(s.user, digest, sig_user):
            raise E.InvalidUserSignature(s.user)
        new, global_wei, global_token = self._applied(ch, s)
        self._require_recipient_accepts(s)
        self._commit_update(s.user, new, global_wei, global_token)
        return self._pay_recipient(s)

    def user_authorized_update(
        self, caller: str, now: int, s: ChannelState, sig_hub: bytes, value: int
    ) -> Outcome:
        if caller != s.user:
            raise E.NotUser(caller, s.user)
        ch = self._open_channel(s.user)
        self._require_recipient_not_self(s.recipient)
        pw, pt = s.pending_wei_updates, s.pending_token_updates
        if value != pw[2]:
            raise E.WrongDepositValue(value, pw[2])
        self._require_authorized_update(ch, s, now)
        # The contract measures address(this).balance − msg.value, i.e. the balance before the
        # call; the model's eth_balance does not hold `value` yet, so nothing is subtracted.
        self._require_reserve(pw[0], pt[0], 0)
        self._require_channel_funds(ch, s)
        if not self.signatures.is_valid_key_signature(
            self.hub, channel_digest(self.domain, s), sig_hub
        ):
            raise E.InvalidHubSignature()
        new, global_wei, global_token = self._applied(ch, s)
        # A fee-on-transfer token keeps back at most what it moves.
        received = pt[2] - min(self.world.token_fee, pt[2])
        if pt[2] and received != pt[2]:
            raise E.TokenTransferShortfall(pt[2], received)
        self._require_recipient_accepts(s)
        self.eth_balance += value
        self.token_balance += pt[2]
        self._commit_update(s.user, new, global_wei, global_token)
        return self._pay_recipient(s)

    # ---------------------------------------------------------------- channel disputes

    def start_exit(self, caller: str, now: int, user: str) -> Outcome:
        ch = self._open_channel(user)
        self._require_hub_or_user(caller, user)
        self._start_dispute(caller, now, user, ch.copy())
        return Outcome()

    def start_exit_with_update(
        self, caller: str, now: int, s: ChannelState, sig_hub: bytes, sig_user: bytes
    ) -> Outcome:
        ch = self._open_channel(s.user)
        self._require_hub_or_user(caller, s.user)
        new = self._adopted(ch, s, sig_hub, sig_user)
        self._start_dispute(caller, now, s.user, new)
        return Outcome()

    def empty_channel_with_challenge(
        self, caller: str, now: int, s: ChannelState, sig_hub: bytes, sig_user: bytes
    ) -> Outcome:
        ch = self._disputed_channel(s.user)
        self._require_hub_or_user(caller, s.user)
        if self._caller_is_initiator(caller, ch):
            raise E.CallerIsExitInitiator(caller)
        if now >= ch.closing_time:
            raise E.ChallengeWindowClosed(ch.closing_time, now)
        new = self._adopted(ch, s, sig_hub, sig_user)
        return self._empty_channel(s.user, new)

    def empty_channel(self, caller: str, now: int, user: str) -> Outcome:
        ch = self._disputed_channel(user)
        if now < ch.closing_time and (
            caller not in (self.hub, user) or self._caller_is_initiator(caller, ch)
        ):
            raise E.ChallengeWindowOpen(ch.closing_time, now)
        return self._empty_channel(user, ch.copy())

    # ---------------------------------------------------------------- threads

    def start_exit_thread(
        self,
        caller: str,
        now: int,
        user: str,
        initial: ThreadState,
        proof: Sequence[bytes],
        sig: bytes,
    ) -> Outcome:
        key = self._require_proven_thread(caller, user, initial, proof, sig)
        self._start_thread_dispute(now, key, initial)
        return Outcome()

    def start_exit_thread_with_update(
        self,
        caller: str,
        now: int,
        user: str,
        initial: ThreadState,
        proof: Sequence[bytes],
        sig_initial: bytes,
        update: ThreadState,
        sig_update: bytes,
    ) -> Outcome:
        key = self._require_proven_thread(caller, user, initial, proof, sig_initial)
        if update.key != initial.key:
            raise E.ThreadMismatch()
        record = self._thread_record(initial)
        self._require_newer_thread_state(update, record)
        self._require_thread_signature(update, sig_update)
        self._store_newer_thread_state(record, update)
        record.closing_time = now + self.challenge_period
        self.threads[key] = record
        return Outcome()

    def challenge_thread(self, caller: str, now: int, update: ThreadState, sig: bytes) -> Outcome:
        if caller not in (self.hub, update.sender, update.receiver):
            raise E.NotThreadParty(caller)
        t = self.threads.get(update.key)
        if t is None or t.closing_time == 0:
            raise E.ThreadNotDisputed(*update.key)
        if now >= t.closing_time:
            raise E.ChallengeWindowClosed(t.closing_time, now)
        self._require_newer_thread_state(update, t)
        self._require_thread_signature(update, sig)
        self._store_newer_thread_state(t, update)
        return Outcome()

    def empty_thread(
        self,
        caller: str,
        now: int,
        user: str,
        initial: ThreadState,
        proof: Sequence[bytes],
        sig: bytes,
    ) -> Outcome:
        # `sig` is not checked: the record's creation checked the sender's signature, and the
        # proof and the record's sums bind `initial` to it (docs/protocol.md §8).
        key = self._require_thread_in_channel(caller, user, initial, proof, None)
        t = self.threads.get(key)
        if t is None or t.closing_time == 0:
            raise E.ThreadNotDisputed(*key)
        if (t.wei_sender + t.wei_receiver, t.token_sender + t.token_receiver) != (
            initial.wei_balances[0],
            initial.token_balances[0],
        ):
            raise E.ThreadMismatch()
        if now < t.closing_time:
            raise E.ChallengeWindowOpen(t.closing_time, now)
        is_sender = user == initial.sender
        if t.sender_emptied if is_sender else t.receiver_emptied:
            raise E.ThreadSideAlreadyEmptied(user)
        ch = self.channels[user]
        wei_amount, token_amount = initial.wei_balances[0], initial.token_balances[0]
        if wei_amount > ch.wei_total:
            raise E.InsufficientChannelFunds(wei_amount, ch.wei_total)
        if token_amount > ch.token_total:
            raise E.InsufficientChannelFunds(token_amount, ch.token_total)
        # effects
        if is_sender:
            t.sender_emptied = True
            paid = (t.wei_sender, t.token_sender)
        else:
            t.receiver_emptied = True
            paid = (t.wei_receiver, t.token_receiver)
        ch.wei_total -= wei_amount
        ch.token_total -= token_amount
        self.total_channel_wei -= wei_amount
        self.total_channel_token -= token_amount
        ch.thread_count -= 1
        if ch.thread_count == 0:
            ch.thread_root = ZERO_BYTES32
            ch.closing_time = 0
            ch.status = Status.OPEN
            # Nothing stranded (docs/protocol.md §8): the channel reopens holding nothing.
            paid = (paid[0] + ch.wei_total, paid[1] + ch.token_total)
            self._drop_totals(ch)
        return self._pay_or_credit(user, *paid)

    def nuke_threads(self, caller: str, now: int, user: str) -> Outcome:
        self._require_valid_user(user)
        ch = self.channel(user)
        if ch.status != Status.THREAD_DISPUTE:
            raise E.WrongChannelStatus(user, int(ch.status))
        nuke_time = ch.closing_time + NUKE_PERIODS * self.challenge_period
        if now < nuke_time:
            raise E.NukeTooEarly(nuke_time, now)
        wei, token = ch.wei_total, ch.token_total
        self.total_channel_wei -= wei
        self.total_channel_token -= token
        ch.wei_total = ch.token_total = 0
        ch.thread_root = ZERO_BYTES32
        ch.thread_count = 0
        ch.closing_time = 0
        ch.status = Status.OPEN
        return self._pay_or_credit(user, wei, token)

    # ---------------------------------------------------------------- credits

    def claim(self, caller: str, now: int, to: str) -> Outcome:
        if to == ZERO_ADDRESS:
            raise E.InvalidRecipient(to)
        self._require_recipient_not_self(to)
        wei = self.credit_wei.get(caller, 0)
        token = self.credit_token.get(caller, 0)
        if wei == 0 and token == 0:
            raise E.NothingToClaim(caller)
        if (wei and not self.world.eth_accepted(to)) or (
            token and not self.world.token_accepted(to)
        ):
            raise E.TransferFailed(to)
        self.credit_wei.pop(caller, None)
        self.credit_token.pop(caller, None)
        self.total_credit_wei -= wei
        self.total_credit_token -= token
        self.eth_balance -= wei
        self.token_balance -= token
        out = Outcome()
        out.pay(to, wei, token)
        return out

    # ---------------------------------------------------------------- guards (contract order)

    def _require_hub(self, caller: str) -> None:
        if caller != self.hub:
            raise E.NotHub(caller)

    def _require_valid_user(self, user: str) -> None:
        if user in (ZERO_ADDRESS, self.hub, self.address):
            raise E.InvalidUser(user)

    def _require_hub_or_user(self, caller: str, user: str) -> None:
        if caller not in (self.hub, user):
            raise E.NotHubOrUser(caller, user)

    def _caller_is_initiator(self, caller: str, ch: Channel) -> bool:
        return (Initiator.HUB if caller == self.hub else Initiator.USER) == ch.initiator

    def _open_channel(self, user: str) -> Channel:
        return self._channel_in(user, Status.OPEN)

    def _disputed_channel(self, user: str) -> Channel:
        return self._channel_in(user, Status.CHANNEL_DISPUTE)

    def _channel_in(self, user: str, status: Status) -> Channel:
        self._require_valid_user(user)
        ch = self.channel(user)
        if ch.status != status:
            raise E.WrongChannelStatus(user, int(ch.status))
        return ch

    @staticmethod
    def _require_newer(ch: Channel, s: ChannelState) -> None:
        if s.tx_count[0] <= ch.tx_count_global:
            raise E.StaleTxCount(s.tx_count[0], ch.tx_count_global)
        if s.tx_count[1] < ch.tx_count_chain:
            raise E.StaleOnchainTxCount(s.tx_count[1], ch.tx_count_chain)

    @staticmethod
    def _require_within(hub: int, user: int, total: int) -> None:
        if hub + user > total:
            raise E.BalancesExceedTotal(hub, user, total)

    def _require_balances_within_totals(self, ch: Channel, s: ChannelState) -> None:
        self._require_within(*s.wei_balances, ch.wei_total)
        self._require_within(*s.token_balances, ch.token_total)

    def _require_authorized_update(self, ch: Channel, s: ChannelState, now: int) -> None:
        if s.timeout != 0 and now >= s.timeout:
            raise E.StateExpired(s.timeout, now)
        check_storable(s)
        self._require_newer(ch, s)
        if s.has_pending and s.tx_count[1] == ch.tx_count_chain:
            raise E.PendingAlreadyExecuted(s.tx_count[1], ch.tx_count_chain)
        self._require_balances_within_totals(ch, s)

    def _require_reserve(self, wei: int, token: int, in_flight: int) -> None:
        if wei and wei > self.reserve_wei(in_flight):
            raise E.InsufficientReserve(wei, self.reserve_wei(in_flight))
        if token and token > self.reserve_tokens():
            raise E.InsufficientReserve(token, self.reserve_tokens())

    @staticmethod
    def _require_channel_funds(ch: Channel, s: ChannelState) -> None:
        for total, bal, p in (
            (ch.wei_total, s.wei_balances, s.pending_wei_updates),
            (ch.token_total, s.token_balances, s.pending_token_updates),
        ):
            available = total + p[0] + p[2]
            required = bal[0] + bal[1] + p[1] + p[3]
            if required > available:
                raise E.InsufficientChannelFunds(required, available)

    # ---------------------------------------------------------------- effects

    # docs/protocol.md §4 apply/revert, shared with channel_manager.transitions
    settle = staticmethod(settle)

    def _applied(self, ch: Channel, s: ChannelState) -> tuple[Channel, int, int]:
        pw, pt = s.pending_wei_updates, s.pending_token_updates
        wei_hub, wei_user = self.settle(s.wei_balances, pw, True)
        token_hub, token_user = self.settle(s.token_balances, pt, True)
        wei_total = ch.wei_total + pw[0] + pw[2] - pw[1] - pw[3]
        token_total = ch.token_total + pt[0] + pt[2] - pt[1] - pt[3]
        self._require_within(wei_hub, wei_user, wei_total)
        self._require_within(token_hub, token_user, token_total)
        for value in (wei_total, token_total):
            if value > MAX_AMOUNT:
                raise E.ValueTooLarge(value)
        global_wei = self.total_channel_wei + wei_total - ch.wei_total
        global_token = self.total_channel_token + token_total - ch.token_total
        for value in (global_wei, global_token):
            if value > MAX_AMOUNT:
                raise E.ValueTooLarge(value)
        new = self._with_balances(ch, s, (wei_hub, wei_user), (token_hub, token_user))
        new.wei_total, new.token_total = wei_total, token_total
        new.tx_count_chain = s.tx_count[1]
        return new, global_wei, global_token

    def _require_recipient_not_self(self, recipient: str) -> None:
        # Tokens sent to the contract itself would silently become hub reserve
        # (docs/protocol.md §5, §7), so it is never a recipient.
        if recipient == self.address:
            raise E.InvalidRecipient(recipient)

    def _require_recipient_accepts(self, s: ChannelState) -> None:
        if s.pending_wei_updates[3] and not self.world.eth_accepted(s.recipient):
            raise E.TransferFailed(s.recipient)
        if s.pending_token_updates[3] and not self.world.token_accepted(s.recipient):
            raise E.TransferFailed(s.recipient)

    def _commit_update(self, user: str, new: Channel, global_wei: int, global_token: int) -> None:
        self.channels[user] = new
        self.total_channel_wei = global_wei
        self.total_channel_token = global_token

    def _pay_recipient(self, s: ChannelState) -> Outcome:
        wei, token = s.pending_wei_updates[3], s.pending_token_updates[3]
        self.eth_balance -= wei
        self.token_balance -= token
        out = Outcome()
        out.pay(s.recipient, wei, token)
        return out

    def _adopted(self, ch: Channel, s: ChannelState, sig_hub: bytes, sig_user: bytes) -> Channel:
        if s.timeout != 0:
            raise E.TimeSensitiveState(s.timeout)
        check_storable(s)
        self._require_newer(ch, s)
        self._require_balances_within_totals(ch, s)
        digest = channel_digest(self.domain, s)
        if not self.signatures.is_valid_key_signature(self.hub, digest, sig_hub):
            raise E.InvalidHubSignature()
        if not self.signatures.is_valid_signature(s.user, digest, sig_user):
            raise E.InvalidUserSignature(s.user)
        executed = s.tx_count[1] == ch.tx_count_chain
        wei_hub, wei_user = self.settle(s.wei_balances, s.pending_wei_updates, executed)
        token_hub, token_user = self.settle(s.token_balances, s.pending_token_updates, executed)
        self._require_within(wei_hub, wei_user, ch.wei_total)
        self._require_within(token_hub, token_user, ch.token_total)
        return self._with_balances(ch, s, (wei_hub, wei_user), (token_hub, token_user))

    @staticmethod
    def _with_balances(
        ch: Channel, s: ChannelState, wei: tuple[int, int], token: tuple[int, int]
    ) -> Channel:
        """A copy of `ch` holding the settled (hub, user) balances and `s`'s txCount[0] and threads."""
        new = ch.copy()
        new.wei_hub, new.wei_user = wei
        new.token_hub, new.token_user = token
        new.tx_count_global = s.tx_count[0]
        new.thread_root = s.thread_root
        new.thread_count = s.thread_count
        return new

    def _start_dispute(self, caller: str, now: int, user: str, ch: Channel) -> None:
        ch.closing_time = now + self.challenge_period
        ch.status = Status.CHANNEL_DISPUTE
        ch.initiator = Initiator.HUB if caller == self.hub else Initiator.USER
        self.channels[user] = ch

    def _empty_channel(self, user: str, ch: Channel) -> Outcome:
        wei_user, token_user = ch.wei_user, ch.token_user
        wei_out, token_out = ch.wei_hub + ch.wei_user, ch.token_hub + ch.token_user
        ch.wei_total -= wei_out
        ch.token_total -= token_out
        self.total_channel_wei -= wei_out
        self.total_channel_token -= token_out
        ch.wei_hub = ch.wei_user = ch.token_hub = ch.token_user = 0
        ch.initiator = Initiator.NONE
        if ch.thread_count == 0:
            ch.status = Status.OPEN
            ch.closing_time = 0
            # Nothing stranded (docs/protocol.md §8): what neither balance held (a double-signed
            # state that assigned less than the total) goes to the user with its balance.
            wei_user += ch.wei_total
            token_user += ch.token_total
            self._drop_totals(ch)
        else:
            ch.status = Status.THREAD_DISPUTE
        self.channels[user] = ch
        return self._pay_or_credit(user, wei_user, token_user)

    def _drop_totals(self, ch: Channel) -> None:
        """The channel's whole remaining total leaves it (and the global totals)."""
        self.total_channel_wei -= ch.wei_total
        self.total_channel_token -= ch.token_total
        ch.wei_total = ch.token_total = 0

    def _pay_or_credit(self, user: str, wei: int, token: int) -> Outcome:
        out = Outcome()
        credit_wei = wei if wei and not self.world.eth_accepted(user) else 0
        credit_token = token if token and not self.world.token_accepted(user) else 0
        out.pay(user, wei - credit_wei, token - credit_token)
        self.eth_balance -= wei - credit_wei
        self.token_balance -= token - credit_token
        if credit_wei or credit_token:
            self.credit_wei[user] = self.credit_wei.get(user, 0) + credit_wei
            self.credit_token[user] = self.credit_token.get(user, 0) + credit_token
            self.total_credit_wei += credit_wei
            self.total_credit_token += credit_token
            out.credited[user] = (credit_wei, credit_token)
        return out

    # ---------------------------------------------------------------- threads: checks

    def _require_thread_in_channel(
        self,
        caller: str,
        user: str,
        initial: ThreadState,
        proof: Sequence[bytes],
        sig: bytes | None,
    ) -> tuple[str, str, int]:
        """The checks shared by the thread calls, in the contract's order; `sig` None: the
        sender's signature is not checked (emptyThread)."""
        self._require_valid_user(user)
        self._require_hub_or_user(caller, user)
        ch = self.channel(user)
        if ch.status != Status.THREAD_DISPUTE:
            raise E.WrongChannelStatus(user, int(ch.status))
        sender, receiver = initial.sender, initial.receiver
        forbidden = (ZERO_ADDRESS, self.hub, self.address)
        if sender == receiver or sender in forbidden or receiver in forbidden:
            raise E.InvalidThreadParties(sender, receiver)
        if user not in (sender, receiver):
            raise E.UserNotThreadParty(user)
        if initial.tx_count != 0 or initial.wei_balances[1] != 0 or initial.token_balances[1] != 0:
            raise E.InvalidInitialThreadState()
        for value in (initial.wei_balances[0], initial.token_balances[0]):
            if value > MAX_THREAD_AMOUNT:
                raise E.ValueTooLarge(value)
        leaf = thread_struct_hash(initial)
        if sig is not None and not self.signatures.is_valid_signature(
            sender, thread_digest(self.domain, initial), sig
        ):
            raise E.InvalidThreadSignature(sender)
        if not merkle_verify(proof, ch.thread_root, leaf):
            raise E.ThreadNotInRoot(leaf, ch.thread_root)
        return initial.key

    def _require_proven_thread(
        self, caller: str, user: str, initial: ThreadState, proof: Sequence[bytes], sig: bytes
    ) -> tuple[str, str, int]:
        key = self._require_thread_in_channel(caller, user, initial, proof, sig)
        if self.thread(*key).closing_time != 0:
            raise E.ThreadAlreadyDisputed(*key)
        return key

    @staticmethod
    def _thread_record(initial: ThreadState) -> Thread:
        """A new record holding `initial` (the sender holds the sums, txCount 0)."""
        return Thread(wei_sender=initial.wei_balances[0], token_sender=initial.token_balances[0])

    @staticmethod
    def _require_newer_thread_state(update: ThreadState, t: Thread) -> None:
        """docs/protocol.md §8: the record's sums kept, and at least one receiver balance raised.
        txCount decides nothing (an unreachable txCount must not void the receiver's states)."""
        if (update.wei_sum, update.token_sum) != (
            t.wei_sender + t.wei_receiver,
            t.token_sender + t.token_receiver,
        ):
            raise E.ThreadSumsChanged()
        wei, token = update.wei_balances[1], update.token_balances[1]
        if wei <= t.wei_receiver and token <= t.token_receiver:
            raise E.ThreadStateNotNewer(wei, token, t.wei_receiver, t.token_receiver)

    @staticmethod
    def _store_newer_thread_state(t: Thread, update: ThreadState) -> None:
        """Per asset, the receiver keeps the highest balance shown (an asset the update lowers
        keeps its stored value) and the sender the rest; txCount is the highest shown,
        saturating at the 64-bit storage limit."""
        wei_sum, token_sum = t.wei_sender + t.wei_receiver, t.token_sender + t.token_receiver
        t.wei_receiver = max(t.wei_receiver, update.wei_balances[1])
        t.token_receiver = max(t.token_receiver, update.token_balances[1])
        t.wei_sender, t.token_sender = wei_sum - t.wei_receiver, token_sum - t.token_receiver
        t.tx_count = max(t.tx_count, min(update.tx_count, MAX_TX_COUNT))

    def _require_thread_signature(self, state: ThreadState, sig: bytes) -> None:
        if not self.signatures.is_valid_signature(
            state.sender, thread_digest(self.domain, state), sig
        ):
            raise E.InvalidThreadSignature(state.sender)

    def _start_thread_dispute(
        self, now: int, key: tuple[str, str, int], initial: ThreadState
    ) -> None:
        record = self._thread_record(initial)
        record.closing_time = now + self.challenge_period
        self.threads[key] = record
