"""Mutants of contracts/ChannelManager.sol for the known-bug rediscovery benchmark.

A mutant is a small source edit that breaks one rule of docs/protocol.md: a guard removed or
weakened, a deadline moved by one second, a term dropped in an `unchecked` or assembly block, a
packed storage field truncated or written with the wrong value, one of version 3's audit fixes
reverted. The fuzzing engine must notice every one of them (`research/rediscover.py`,
`research/mutation_check.py`).

Each edit names an exact piece of the contract's text and must occur there exactly once, so an
edit that no longer matches (the contract changed) fails loudly instead of testing nothing.
`HAND_WRITTEN` are chosen one by one; `generated_mutants` adds boundary swaps (`<` ↔ `<=`,
`>` ↔ `>=`) on every one-line guard `if (…) revert …;`. A mutant whose edited text equals an
earlier one's is dropped.

`build_mutant` writes the mutated contract to build/fuzzing-mutants/<id>/contracts/ beside a copy
of interfaces/IChannelManager.sol (so its `../interfaces/` import resolves), compiles it with
`fuzzing.compile` (cached) and requires its runtime code, metadata stripped, to differ from the
unmutated contract's: an edit the optimiser erases is reported, not counted.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from fuzzing.artifacts import PROJECT_ROOT, Artifact
from fuzzing.compile import DEFAULT_CONTRACT, INTERFACE_PATH, load_channel_manager

MUTANT_DIR = PROJECT_ROOT / "build" / "fuzzing-mutants"


class MutantError(Exception):
    """A mutant that cannot be built or does not change the code (one-line message)."""


@dataclass(frozen=True, slots=True)
class Edit:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Mutant:
    """`rule` names what the mutant breaks, as docs/protocol.md words it (§ and error/property)."""

    id: str
    category: str
    description: str
    rule: str
    edits: tuple[Edit, ...]

    def apply(self, text: str) -> str:
        """`text` with every edit applied in order; each `old` must occur exactly once."""
        for number, edit in enumerate(self.edits, 1):
            count = text.count(edit.old)
            if count != 1:
                where = f"edit {number} of " if len(self.edits) > 1 else ""
                first_line = edit.old.strip().splitlines()[0][:70]
                raise MutantError(
                    f"mutant {self.id}: {where}pattern found {count} times (need exactly 1): {first_line!r}"
                )
            text = text.replace(edit.old, edit.new)
        return text


def _m(id: str, category: str, description: str, rule: str, *pairs: tuple[str, str]) -> Mutant:
    return Mutant(id, category, description, rule, tuple(Edit(old, new) for old, new in pairs))


def _drop(old: str) -> tuple[str, str]:
    return (old, "")


# ---------------------------------------------------------------------------- hand-written
# Categories: rule (a guard removed or weakened), time (a deadline moved by one second),
# assembly, unchecked, packing (a packed field truncated or mis-written), v3-fix (an audit fix
# reverted), thread (thread settlement rules).

HAND_WRITTEN: tuple[Mutant, ...] = (
    # -- callers and roles (§1 roles, §9 errors)
    _m(
        "rule-not-hub",
        "rule",
        "anyone may call the hub-only functions (onlyHub guard removed)",
        "§5 NotHub: only the hub withdraws its reserve and submits user-signed updates",
        _drop("        if (msg.sender != hub) revert NotHub(msg.sender);\n"),
    ),
    _m(
        "rule-not-user",
        "rule",
        "anyone may submit a hub-signed update for a user (NotUser removed)",
        "§5 NotUser: userAuthorizedUpdate only by state.user",
        _drop("        _requireCallerIsUser(state.user);\n"),
    ),
    _m(
        "rule-not-hub-or-user",
        "rule",
        "any address may start, answer and settle disputes (NotHubOrUser removed)",
        "§6, §8.4 NotHubOrUser",
        (
            "if (msg.sender != hub && msg.sender != user) revert NotHubOrUser",
            "if (false) revert NotHubOrUser",
        ),
    ),
    _m(
        "rule-invalid-user",
        "rule",
        "zero, the hub and the contract accepted as users (InvalidUser removed)",
        "§2 valid user, InvalidUser",
        (
            "if (user == address(0) || user == hub || user == address(this)) revert InvalidUser",
            "if (false) revert InvalidUser",
        ),
    ),
    _m(
        "rule-thread-party",
        "rule",
        "anyone may challenge a thread (NotThreadParty removed)",
        "§8.4 NotThreadParty",
        (
            "if (msg.sender != hub && msg.sender != update.sender && msg.sender != update.receiver) {",
            "if (false) {",
        ),
    ),
    # -- channel status (§1 life cycle)
    _m(
        "rule-status-open",
        "rule",
        "authorized updates and exits accepted in any status (Open not required)",
        "§1 only an Open channel accepts updates and new disputes; WrongChannelStatus",
        (
            "if (status != required) revert WrongChannelStatus",
            "if (status != required && required != Status.Open) revert WrongChannelStatus",
        ),
    ),
    _m(
        "rule-status-disputed",
        "rule",
        "an answer accepted in a channel not in ChannelDispute",
        "§6 WrongChannelStatus (emptyChannelWithChallenge needs ChannelDispute)",
        (
            "        address user = state.user;\n        Channel memory channel = _loadChannel(user, Status.ChannelDispute);\n",
            "        address user = state.user;\n        Channel memory channel = _loadChannel(user, _channels[user].status);\n",
        ),
    ),
    _m(
        "rule-status-empty",
        "rule",
        "emptyChannel accepted in any status",
        "§6 WrongChannelStatus (emptyChannel needs ChannelDispute)",
        (
            "    function emptyChannel(address user) external nonReentrant {\n        Channel memory channel = _loadChannel(user, Status.ChannelDispute);\n",
            "    function emptyChannel(address user) external nonReentrant {\n        Channel memory channel = _loadChannel(user, _channels[user].status);\n",
        ),
    ),
    _m(
        "rule-status-thread",
        "rule",
        "thread disputes and emptyThread accepted outside ThreadDispute",
        "§8.4 WrongChannelStatus (thread calls need ThreadDispute)",
        (
            "        _requireStatus(user, channel.status, Status.ThreadDispute);\n        _requireThreadParties",
            "        _requireThreadParties",
        ),
    ),
    _m(
        "rule-status-nuke",
        "rule",
        "nukeThreads accepted outside ThreadDispute",
        "§8.6 WrongChannelStatus (nukeThreads needs ThreadDispute)",
        (
            "        _requireStatus(user, channel.status, Status.ThreadDispute);\n        _requireNukeTime",
            "        _requireNukeTime",
        ),
    ),
    _m(
        "rule-initiator-answers",
        "rule",
        "the exit initiator may answer its own dispute",
        "§6 CallerIsExitInitiator; property 10.4",
        _drop(
            "        if (_callerIsInitiator(channel)) revert CallerIsExitInitiator(msg.sender);\n"
        ),
    ),
    _m(
        "rule-initiator-concedes",
        "rule",
        "the initiator may empty its own dispute before the window closes",
        "§6 ChallengeWindowOpen (only the non-initiator concedes early); property 10.4",
        (
            "return (msg.sender == hub || msg.sender == user) && !_callerIsInitiator(channel);",
            "return msg.sender == hub || msg.sender == user;",
        ),
    ),
    # -- txCount rules (§4)
    _m(
        "rule-stale-txcount-equal",
        "rule",
        "an equal global txCount accepted (`<=` to `<`)",
        "§4 StaleTxCount (strictly above); property 10.2",
        (
            "if (state.txCount[0] <= channel.txCountGlobal) revert StaleTxCount",
            "if (state.txCount[0] < channel.txCountGlobal) revert StaleTxCount",
        ),
    ),
    _m(
        "rule-stale-txcount",
        "rule",
        "the global txCount is not checked at all",
        "§4 StaleTxCount; property 10.2",
        (
            "if (state.txCount[0] <= channel.txCountGlobal) revert StaleTxCount",
            "if (false) revert StaleTxCount",
        ),
    ),
    _m(
        "rule-stale-onchain",
        "rule",
        "a lower onchain txCount accepted (StaleOnchainTxCount removed)",
        "§4 StaleOnchainTxCount; property 10.2",
        ("if (state.txCount[1] < channel.txCountChain) {", "if (false) {"),
    ),
    _m(
        "rule-pending-replay",
        "rule",
        "executed pending updates execute again (PendingAlreadyExecuted removed)",
        "§4 PendingAlreadyExecuted; property 10.3",
        (
            "if (_hasPending(state) && state.txCount[1] == channel.txCountChain) {",
            "if (false && _hasPending(state) && state.txCount[1] == channel.txCountChain) {",
        ),
    ),
    # -- authorized updates (§5)
    _m(
        "rule-state-expired",
        "rule",
        "an expired state still executes (StateExpired removed)",
        "§5 StateExpired; §4 the life of a pending proposal",
        (
            "if (timeout != 0 && block.timestamp >= timeout) revert StateExpired",
            "if (false) revert StateExpired",
        ),
    ),
    _m(
        "rule-within-total-before",
        "rule",
        "balances above the stored total accepted (pre-check removed)",
        "§5 BalancesExceedTotal (before applying); §6 against the stored totals; property 10.1",
        (
            "        _requireWithinTotal(state.weiBalances[0], state.weiBalances[1], channel.weiTotal);\n",
            "",
        ),
    ),
    _m(
        "rule-within-total-after",
        "rule",
        "the post-apply check hub + user ≤ new total (ETH) removed",
        "§5 effects 3, BalancesExceedTotal after applying; property 10.1",
        _drop("        _requireWithinTotal(weiHub, weiUser, weiTotal);\n"),
    ),
    _m(
        "rule-within-total-dispute",
        "rule",
        "a dispute state whose applied/reverted balances exceed the total accepted",
        "§6 BalancesExceedTotal after apply or revert; property 10.1",
        _drop("        _requireWithinTotal(weiHub, weiUser, channel.weiTotal);\n"),
    ),
    _m(
        "rule-reserve-wei",
        "rule",
        "a hub ETH deposit larger than the reserve accepted",
        "§5 InsufficientReserve; property 10.1",
        _drop(
            "        if (weiFromReserve != 0) _requireReserveCovers(weiFromReserve, _reserveWei(inFlightWei));\n"
        ),
    ),
    _m(
        "rule-reserve-token",
        "rule",
        "a hub token deposit larger than the reserve accepted",
        "§5 InsufficientReserve (token); property 10.1",
        _drop(
            "            _requireReserveCovers(tokenFromReserve, tokenBalance > owed ? tokenBalance - owed : 0);\n"
        ),
    ),
    _m(
        "rule-reserve-msg-value",
        "rule",
        "the reserve counts the user's msg.value (v1's theft)",
        "§5 the reserve is the reserve before the call; property 10.1",
        (
            "uint256 owed = uint256(_totalChannelWei) + _totalCreditWei + inFlightWei;",
            "uint256 owed = uint256(_totalChannelWei) + _totalCreditWei;",
        ),
    ),
    _m(
        "rule-hub-withdraw-reserve",
        "rule",
        "the hub withdraws more ETH than its reserve",
        "§5 reserve withdrawal, InsufficientReserve; property 10.1",
        _drop("        if (weiAmount != 0) _requireReserveCovers(weiAmount, _reserveWei(0));\n"),
    ),
    _m(
        "rule-channel-funds",
        "rule",
        "balances + withdrawals above total + deposits accepted",
        "§5 InsufficientChannelFunds; property 10.1",
        _drop("            _requireFundsCover(required, available);\n"),
    ),
    _m(
        "rule-deposit-value",
        "rule",
        "msg.value above the user's ETH deposit accepted (`!=` to `<`)",
        "§5 WrongDepositValue",
        (
            "if (sent != expected) revert WrongDepositValue",
            "if (sent < expected) revert WrongDepositValue",
        ),
    ),
    _m(
        "rule-token-shortfall",
        "rule",
        "a token deposit that delivered less is accepted",
        "§5 TokenTransferShortfall (exact token pulls); property 10.1",
        (
            "if (received != amount) revert TokenTransferShortfall",
            "if (false) revert TokenTransferShortfall",
        ),
    ),
    _m(
        "rule-transfer-failed",
        "rule",
        "a refused withdrawal to the recipient is ignored (money stays as reserve)",
        "§5 effects 6, TransferFailed; property 10.4",
        ("        _requireTransferred(ok, to);\n", "        ok;\n"),
    ),
    _m(
        "rule-time-sensitive",
        "rule",
        "a state with a timeout accepted in a dispute",
        "§6 TimeSensitiveState; property 10.4",
        _drop("        _requireNoTimeout(state.timeout);\n"),
    ),
    # -- signatures (§3.3)
    _m(
        "rule-hub-sig-update",
        "rule",
        "userAuthorizedUpdate without the hub's signature",
        "§3.3 InvalidHubSignature",
        _drop("        _requireHubSignature(_channelDigest(state), sigHub);\n"),
    ),
    _m(
        "rule-user-sig-update",
        "rule",
        "hubAuthorizedUpdate without the user's signature",
        "§3.3 InvalidUserSignature",
        _drop("        _requireUserSignature(state.user, _channelDigest(state), sigUser);\n"),
    ),
    _m(
        "rule-hub-sig-dispute",
        "rule",
        "dispute states without the hub's signature",
        "§3.3 InvalidHubSignature; property 10.4",
        _drop("        _requireHubSignature(digest, sigHub);\n"),
    ),
    _m(
        "rule-user-sig-dispute",
        "rule",
        "dispute states without the user's signature",
        "§3.3 InvalidUserSignature; property 10.4",
        _drop("        _requireUserSignature(state.user, digest, sigUser);\n"),
    ),
    _m(
        "rule-thread-sig-initial",
        "rule",
        "a thread dispute started from an unsigned initial state",
        "§8.1 InvalidThreadSignature (initial state); property 10.9",
        _drop("        _requireThreadSignature(initial.sender, leaf, sig);\n"),
    ),
    _m(
        "rule-thread-sig-update",
        "rule",
        "thread updates accepted without the sender's signature",
        "§8.1 InvalidThreadSignature (updates); property 10.9",
        # The guard also checks initial states now: the two update sites lose their call instead.
        (
            "        _requireThreadSignature(update.sender, _threadStructHash(update), sig);\n\n        uint64 txCount",
            "\n        uint64 txCount",
        ),
        (
            "        _requireThreadSignature(update.sender, _threadStructHash(update), sig);\n        Thread storage thread",
            "        Thread storage thread",
        ),
    ),
    # -- threads (§8)
    _m(
        "rule-thread-parties",
        "rule",
        "sender = receiver, zero, the hub or the contract accepted as thread parties",
        "§8.1 InvalidThreadParties",
        ("        ) revert InvalidThreadParties(sender, receiver);\n", "        ) {}\n"),
    ),
    _m(
        "rule-user-not-party",
        "rule",
        "a channel that is neither sender nor receiver disputes a thread",
        "§8.1 UserNotThreadParty; property 10.1",
        (
            "if (user != sender && user != receiver) revert UserNotThreadParty",
            "if (false) revert UserNotThreadParty",
        ),
    ),
    _m(
        "rule-initial-state",
        "rule",
        'an "initial" state with a receiver balance or txCount accepted',
        "§8.1 InvalidInitialThreadState; property 10.9",
        (
            "if (initial.txCount != 0 || initial.weiBalances[1] != 0 || initial.tokenBalances[1] != 0) {",
            "if (false) {",
        ),
    ),
    _m(
        "rule-not-in-root",
        "rule",
        "the proof is skipped when the root is zero (v1's flaw)",
        "§8.1 ThreadNotInRoot, the proof is never skipped; property 10.9",
        (
            "if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf))",
            "if (root != bytes32(0) && !MerkleProof.verifyCalldata(proof, root, leaf))",
        ),
    ),
    _m(
        "rule-not-in-root-any",
        "rule",
        "no merkle proof required at all",
        "§8.1 ThreadNotInRoot; property 10.1",
        (
            "if (root == bytes32(0) || !MerkleProof.verifyCalldata(proof, root, leaf))",
            "if (root == bytes32(0))",
        ),
    ),
    _m(
        "rule-already-disputed",
        "rule",
        "a thread disputed twice (the record restarted)",
        "§8.1 ThreadAlreadyDisputed; property 10.9",
        ("        if (_threads[key].closingTime != 0) {\n", "        if (false) {\n"),
    ),
    _m(
        "rule-not-disputed-challenge",
        "rule",
        "a thread challenged without a dispute record",
        "§8.4 ThreadNotDisputed (challengeThread)",
        _drop("        _requireThreadDisputed(closingTime, update);\n"),
    ),
    _m(
        "rule-not-disputed-empty",
        "rule",
        "a thread side settled without a dispute record",
        "§8.4 ThreadNotDisputed (emptyThread); property 10.1",
        _drop("        _requireThreadDisputed(closingTime, initial);\n"),
    ),
    _m(
        "rule-update-key-mismatch",
        "rule",
        "startExitThreadWithUpdate accepts an update of another thread",
        "§8.4 ThreadMismatch (update names another thread); property 10.9",
        (
            "update.sender == initial.sender && update.receiver == initial.receiver && update.threadId == initial.threadId",
            "true",
        ),
    ),
    _m(
        "rule-sums-changed",
        "rule",
        "thread states that change an asset's sum accepted",
        "§8.1 ThreadSumsChanged; property 10.1",
        ("        ) revert ThreadSumsChanged();\n", "        ) {}\n"),
    ),
    _m(
        "rule-not-newer",
        "rule",
        "thread states that raise no receiver balance accepted and stored as given",
        "§8.3 ThreadStateNotNewer and the per-asset maximum; property 10.9",
        (
            "        if (weiReceiver <= storedWei && tokenReceiver <= storedToken) {\n            revert ThreadStateNotNewer(weiReceiver, tokenReceiver, storedWei, storedToken);\n        }\n        if (weiReceiver < storedWei) weiReceiver = storedWei;\n        if (tokenReceiver < storedToken) tokenReceiver = storedToken;\n",
            "",
        ),
    ),
    _m(
        "thread-equal-state-accepted",
        "thread",
        "a thread state equal to the record accepted (`&&` of `<=` to `<`)",
        "§8.3 ThreadStateNotNewer (a state must raise a receiver balance)",
        (
            "if (weiReceiver <= storedWei && tokenReceiver <= storedToken) {",
            "if (weiReceiver < storedWei && tokenReceiver < storedToken) {",
        ),
    ),
    _m(
        "thread-wei-max-dropped",
        "thread",
        "a state that raises tokens lowers the stored ETH receiver balance",
        "§8.3 per-asset maximum (an asset a state lowers keeps its stored value); property 10.9",
        _drop("        if (weiReceiver < storedWei) weiReceiver = storedWei;\n"),
    ),
    _m(
        "thread-token-max-dropped",
        "thread",
        "a state that raises ETH lowers the stored token receiver balance",
        "§8.3 per-asset maximum; property 10.9",
        _drop("        if (tokenReceiver < storedToken) tokenReceiver = storedToken;\n"),
    ),
    _m(
        "thread-double-empty-sender",
        "thread",
        "the sender's side of a thread settled twice",
        "§8.5 ThreadSideAlreadyEmptied (sender side); property 10.1",
        (
            "isSender ? thread.senderEmptied : thread.receiverEmptied",
            "isSender ? false : thread.receiverEmptied",
        ),
    ),
    _m(
        "thread-double-empty-receiver",
        "thread",
        "the receiver's side of a thread settled twice",
        "§8.5 ThreadSideAlreadyEmptied (receiver side); property 10.1",
        (
            "isSender ? thread.senderEmptied : thread.receiverEmptied",
            "isSender ? thread.senderEmptied : false",
        ),
    ),
    _m(
        "thread-side-swapped",
        "thread",
        "emptyThread pays each channel the other side's share",
        "§8.5 who is paid what; property 10.9",
        (
            "_markSideEmptied(thread, user, user == initial.sender);",
            "_markSideEmptied(thread, user, user != initial.sender);",
        ),
    ),
    _m(
        "thread-channel-funds",
        "thread",
        "a thread settled from a channel holding less than its amount",
        "§8.4 InsufficientChannelFunds (emptyThread); property 10.1",
        _drop("        _requireFundsCover(weiAmount, weiTotal);\n"),
    ),
    # -- time boundaries ±1 s (§6 Time, property 10.6)
    _m(
        "time-answer-at-closing",
        "time",
        "an answer accepted at exactly the closing time (`>=` to `>`)",
        "§6 ChallengeWindowClosed from closing; property 10.6",
        (
            "        _requireWindowOpen(channel.closingTime);\n",
            "        if (block.timestamp != channel.closingTime) _requireWindowOpen(channel.closingTime);\n",
        ),
    ),
    _m(
        "time-answer-window-short",
        "time",
        "answers refused one second early, at closing − 1",
        "§6 answers accepted up to closing − 1; property 10.4, 10.6",
        (
            "        _requireWindowOpen(channel.closingTime);\n",
            "        if (block.timestamp + 1 == channel.closingTime) revert ChallengeWindowClosed(channel.closingTime, block.timestamp);\n"
            "        _requireWindowOpen(channel.closingTime);\n",
        ),
    ),
    _m(
        "time-empty-late",
        "time",
        "emptyChannel by anyone refused at exactly the closing time (`<` to `<=`)",
        "§6 emptying by anyone from closing; property 10.5, 10.6",
        (
            "        if (!_isConcedingParty(user, channel)) _requireWindowClosed(channel.closingTime);\n",
            "        if (!_isConcedingParty(user, channel)) {\n"
            "            if (block.timestamp == channel.closingTime) revert ChallengeWindowOpen(channel.closingTime, block.timestamp);\n"
            "            _requireWindowClosed(channel.closingTime);\n"
            "        }\n",
        ),
    ),
    _m(
        "time-empty-early",
        "time",
        "emptyChannel by anyone accepted one second early, at closing − 1",
        "§6 ChallengeWindowOpen before closing; property 10.4, 10.6",
        (
            "        if (!_isConcedingParty(user, channel)) _requireWindowClosed(channel.closingTime);\n",
            "        if (!_isConcedingParty(user, channel) && block.timestamp + 1 != channel.closingTime) {\n"
            "            _requireWindowClosed(channel.closingTime);\n"
            "        }\n",
        ),
    ),
    _m(
        "time-thread-challenge-at-closing",
        "time",
        "a thread challenge accepted at the thread's closing time",
        "§8.4 ChallengeWindowClosed (thread) from closing; property 10.6",
        (
            "        _requireWindowOpen(closingTime);\n",
            "        if (block.timestamp != closingTime) _requireWindowOpen(closingTime);\n",
        ),
    ),
    _m(
        "time-thread-challenge-short",
        "time",
        "thread challenges refused one second early",
        "§8.4 challenges up to closing − 1; property 10.9, 10.6",
        (
            "        _requireWindowOpen(closingTime);\n",
            "        if (block.timestamp + 1 == closingTime) revert ChallengeWindowClosed(closingTime, block.timestamp);\n"
            "        _requireWindowOpen(closingTime);\n",
        ),
    ),
    _m(
        "time-thread-empty-early",
        "time",
        "emptyThread accepted one second before the thread's closing time",
        "§8.4 ChallengeWindowOpen (emptyThread); property 10.9, 10.6",
        (
            "        _requireWindowClosed(closingTime);\n",
            "        if (block.timestamp + 1 != closingTime) _requireWindowClosed(closingTime);\n",
        ),
    ),
    _m(
        "time-thread-empty-late",
        "time",
        "emptyThread refused at exactly the thread's closing time",
        "§8.4 thread settlement from closing; property 10.6",
        (
            "        _requireWindowClosed(closingTime);\n",
            "        if (block.timestamp == closingTime) revert ChallengeWindowOpen(closingTime, block.timestamp);\n"
            "        _requireWindowClosed(closingTime);\n",
        ),
    ),
    _m(
        "time-nuke-early",
        "time",
        "nukeThreads accepted one second before the deadline",
        "§8.6 NukeTooEarly; property 10.6",
        (
            "if (block.timestamp < nukeTime) revert NukeTooEarly",
            "if (block.timestamp + 1 < nukeTime) revert NukeTooEarly",
        ),
    ),
    _m(
        "time-nuke-late",
        "time",
        "nukeThreads refused at exactly the deadline",
        "§8.6 nuke from exactly closing + 10 × period; property 10.5, 10.6",
        (
            "if (block.timestamp < nukeTime) revert NukeTooEarly",
            "if (block.timestamp <= nukeTime) revert NukeTooEarly",
        ),
    ),
    _m(
        "time-state-expired-late",
        "time",
        "an authorized update accepted at exactly its timeout",
        "§5 StateExpired at or after timeout; property 10.6",
        (
            "block.timestamp >= timeout) revert StateExpired",
            "block.timestamp > timeout) revert StateExpired",
        ),
    ),
    _m(
        "time-state-expired-early",
        "time",
        "an authorized update refused one second before its timeout",
        "§5 StateExpired only from timeout",
        (
            "block.timestamp >= timeout) revert StateExpired",
            "block.timestamp + 1 >= timeout) revert StateExpired",
        ),
    ),
    # -- assembly blocks
    _m(
        "asm-channel-hash-offset",
        "assembly",
        "channel struct hash reads txCount one word early",
        "§3.2 EIP-712 digest (signatures over the wrong fields)",
        ("calldatacopy(t, add(s, 0x1c0), 0x40)", "calldatacopy(t, add(s, 0x1a0), 0x40)"),
    ),
    _m(
        "asm-channel-hash-short",
        "assembly",
        "channel struct hash leaves out the timeout",
        "§3.2 EIP-712 digest: timeout not signed",
        (
            "calldatacopy(add(m, 0x100), add(s, 0x200), 0x60)",
            "calldatacopy(add(m, 0x100), add(s, 0x200), 0x40)",
        ),
    ),
    _m(
        "asm-thread-hash-tokens",
        "assembly",
        "thread struct hash leaves out the token balances",
        "§3.4 leaf = struct hash of the whole initial state; property 10.1",
        (
            "calldatacopy(add(m, 0x60), add(t, 0xa0), 0x40)",
            "calldatacopy(add(m, 0x60), add(t, 0x60), 0x40)",
        ),
    ),
    _m(
        "asm-has-pending-short",
        "assembly",
        "_hasPending ignores the last pending word (user token withdrawal)",
        "§4 PendingAlreadyExecuted; property 10.3",
        ("lt(p, add(s, 0x1c0))", "lt(p, add(s, 0x1a0))"),
    ),
    _m(
        "asm-key-sig-v",
        "assembly",
        "key signatures read v from the wrong byte",
        "§3.3 key signatures",
        (
            "v := byte(0, calldataload(add(sig.offset, 0x40)))",
            "v := byte(1, calldataload(add(sig.offset, 0x40)))",
        ),
    ),
    _m(
        "asm-send-eth-ignored",
        "assembly",
        "a refused dispute payout counts as paid (no credit)",
        "§7 refused payouts are credited; property 10.4",
        (
            "            ok := call(gasLimit, to, amount, 0, 0, 0, 0)\n",
            "            pop(call(gasLimit, to, amount, 0, 0, 0, 0))\n            ok := 1\n",
        ),
    ),
    _m(
        "asm-send-token-false",
        "assembly",
        "a token transfer returning false counts as paid",
        "§7 refused payouts (blacklisting token) are credited; property 10.4",
        (
            "default { ok := and(gt(returndatasize(), 0x1f), eq(mload(ptr), 1)) }",
            "default { ok := 1 }",
        ),
    ),
    # -- unchecked blocks
    _m(
        "unchecked-settle-user",
        "unchecked",
        "apply/revert drops the user's pending adjustment",
        "§4 apply and revert; property 10.4",
        (
            "userBalance = balances[1] + _sideAdjustment(pending[2], pending[3], executed);",
            "userBalance = balances[1];",
        ),
    ),
    _m(
        "unchecked-side-swap",
        "unchecked",
        "revert gives back the deposit instead of the withdrawal",
        "§4 apply and revert (revert: balance + (withdrawal − deposit)); property 10.4",
        (
            "return executed ? 0 : withdrawal - deposit;",
            "return executed ? 0 : deposit - withdrawal;",
        ),
    ),
    _m(
        "unchecked-new-total",
        "unchecked",
        "the channel total forgets the user's withdrawal",
        "§5 effects 2 (total changes by deposits − withdrawals); property 10.1",
        (
            "return total + pending[0] + pending[2] - pending[1] - pending[3];",
            "return total + pending[0] + pending[2] - pending[1];",
        ),
    ),
    _m(
        "unchecked-funds-term",
        "unchecked",
        "InsufficientChannelFunds forgets the hub's withdrawal",
        "§5 InsufficientChannelFunds; property 10.1",
        (
            "uint256 required = balances[0] + balances[1] + pending[1] + pending[3];",
            "uint256 required = balances[0] + balances[1] + pending[3];",
        ),
    ),
    _m(
        "unchecked-global-total",
        "unchecked",
        "the global ETH total is not lowered when a channel is emptied",
        "§6 emptying 1 (global total drops); property 10.1",
        _drop("            _totalChannelWei -= weiOut;\n"),
    ),
    _m(
        "unchecked-channel-total",
        "unchecked",
        "the channel ETH total is not lowered when a channel is emptied",
        "§6 emptying 1 (channel total drops); property 10.1",
        _drop("            channel.weiTotal -= weiOut;\n"),
    ),
    _m(
        "unchecked-apply-global",
        "unchecked",
        "the global ETH total moves by the new channel total without removing the old",
        "§5 effects 2; property 10.1 (Σ channel totals = global total)",
        (
            "globalWei = uint256(_totalChannelWei) + weiTotal - channel.weiTotal;",
            "globalWei = uint256(_totalChannelWei) + weiTotal;",
        ),
    ),
    _m(
        "unchecked-nuke-global",
        "unchecked",
        "nukeThreads does not lower the global ETH total",
        "§8.6; property 10.1",
        _drop("            _totalChannelWei -= weiAmount;\n"),
    ),
    _m(
        "unchecked-release-global",
        "unchecked",
        "emptyThread does not lower the global token total",
        "§8.5 step 2; property 10.1",
        _drop("            _totalChannelToken -= uint128(tokenAmount);\n"),
    ),
    _m(
        "unchecked-challenge-sum",
        "unchecked",
        "challengeThread computes the ETH sum from the sender side only",
        "§8.2 the record's sums; property 10.9",
        ("weiSum = thread.weiSender + storedWei;", "weiSum = thread.weiSender;"),
    ),
    _m(
        "unchecked-thread-record",
        "unchecked",
        "the thread record stores the sum as the sender's ETH balance",
        "§8.2 record: sender = sum − receiver; property 10.1",
        ("thread.weiSender = uint96(weiSum - weiReceiver);", "thread.weiSender = uint96(weiSum);"),
    ),
    # -- storage packing fields
    _m(
        "pack-txcount-global-16",
        "packing",
        "the stored global txCount truncated to 16 bits on authorized updates",
        "§2 packing without truncation (ValueTooLarge); property 10.2",
        (
            "channel.txCountGlobal = uint64(state.txCount[0]);\n        channel.txCountChain",
            "channel.txCountGlobal = uint64(uint16(state.txCount[0]));\n        channel.txCountChain",
        ),
    ),
    _m(
        "pack-txcount-chain-unwritten",
        "packing",
        "authorized updates do not store the onchain txCount",
        "§5 effects 4; property 10.3",
        _drop("        channel.txCountChain = uint64(state.txCount[1]);\n"),
    ),
    _m(
        "pack-dispute-txcount-unwritten",
        "packing",
        "a dispute state's global txCount is not stored",
        "§6 stores the global count; property 10.2",
        (
            "        channel.txCountGlobal = uint64(state.txCount[0]);\n        channel.threadRoot = state.threadRoot;\n        channel.threadCount = uint32(state.threadCount);\n    }\n",
            "        channel.threadRoot = state.threadRoot;\n        channel.threadCount = uint32(state.threadCount);\n    }\n",
        ),
    ),
    _m(
        "pack-wei-user-64",
        "packing",
        "the user's ETH balance truncated to 64 bits when a dispute adopts a state",
        "§2 packing without truncation; property 10.4",
        (
            "        channel.weiUser = uint128(weiUser);\n        channel.tokenHub = uint128(tokenHub);\n        channel.tokenUser = uint128(tokenUser);\n        channel.txCountGlobal",
            "        channel.weiUser = uint128(uint64(weiUser));\n        channel.tokenHub = uint128(tokenHub);\n        channel.tokenUser = uint128(tokenUser);\n        channel.txCountGlobal",
        ),
    ),
    _m(
        "pack-token-user-wrong-field",
        "packing",
        "an authorized update writes the hub's token balance into the user's",
        "§5 effects (stored balances); property 10.1",
        (
            "        channel.tokenUser = uint128(tokenUser);\n        channel.weiTotal = uint128(weiTotal);",
            "        channel.tokenUser = uint128(tokenHub);\n        channel.weiTotal = uint128(weiTotal);",
        ),
    ),
    _m(
        "pack-wei-total-64",
        "packing",
        "the channel ETH total truncated to 64 bits on authorized updates",
        "§2 packing without truncation; property 10.1",
        ("channel.weiTotal = uint128(weiTotal);", "channel.weiTotal = uint128(uint64(weiTotal));"),
    ),
    _m(
        "pack-thread-count-unwritten",
        "packing",
        "emptyThread does not lower threadCount when threads remain",
        "§8.5 step 4 (threadCount falls by one); property 10.5",
        _drop("            channel.threadCount = uint32(threadCount);\n"),
    ),
    _m(
        "pack-thread-receiver-wrong-field",
        "packing",
        "the thread record stores the token receiver balance as the ETH one",
        "§8.2 thread record fields; property 10.9",
        (
            "thread.weiReceiver = uint96(weiReceiver);",
            "thread.weiReceiver = uint96(tokenReceiver);",
        ),
    ),
    _m(
        "pack-thread-sender-64",
        "packing",
        "a thread's ETH amount truncated to 64 bits in the record",
        "§2 96-bit thread amounts; property 10.1",
        (
            "thread.weiSender = uint96(initial.weiBalances[0]);",
            "thread.weiSender = uint96(uint64(initial.weiBalances[0]));",
        ),
    ),
    _m(
        "pack-credit-unwritten",
        "packing",
        "a refused payout is counted in the total credit but not the user's",
        "§7 credits; property 10.4",
        _drop("            credit.weiAmount += uint128(weiCredit);\n"),
    ),
    _m(
        "pack-closing-not-kept",
        "packing",
        "a channel entering ThreadDispute forgets its closing time",
        "§8.6 the nuke deadline is dated by the channel's closing time; property 10.5",
        (
            "        } else {\n            // The closing time stays: it dates the nuke deadline.\n            stored.status = Status.ThreadDispute;\n",
            "        } else {\n            stored.closingTime = 0;\n            stored.status = Status.ThreadDispute;\n",
        ),
    ),
    _m(
        "pack-value-too-large",
        "packing",
        "_requireStorable accepts amounts up to 2^192 (truncated when stored)",
        "§2 ValueTooLarge (packing never truncates); property 10.1",
        (
            "amounts <= MAX_AMOUNT && (state.txCount[0]",
            "amounts <= type(uint192).max && (state.txCount[0]",
        ),
    ),
    # -- version 3's audit fixes reverted (docs/protocol.md History)
    _m(
        "v3-h1-binding-dropped",
        "v3-fix",
        "emptyThread no longer bound to the record's initial state (H-1)",
        "§8.2 ThreadMismatch binding; H-1; property 10.1",
        (
            "thread.weiSender + thread.weiReceiver == weiAmount && thread.tokenSender + thread.tokenReceiver == tokenAmount",
            "true",
        ),
    ),
    _m(
        "v3-m2-txcount-order",
        "v3-fix",
        "thread states ordered by txCount again, no per-asset maximum (M-2)",
        "§8.3 receiver balances decide, not txCount; M-2; property 10.9",
        (
            "        (uint256 weiReceiver, uint256 tokenReceiver) =\n            _requireReceiverRaise(update, weiSum, tokenSum, storedWei, storedToken);\n",
            "        if (update.txCount <= thread.txCount) revert ThreadStateNotNewer(0, 0, 0, 0);\n        (uint256 weiReceiver, uint256 tokenReceiver) =\n            _requireReceiverRaise(update, weiSum, tokenSum, storedWei, storedToken);\n",
        ),
        (
            "        if (weiReceiver <= storedWei && tokenReceiver <= storedToken) {\n            revert ThreadStateNotNewer(weiReceiver, tokenReceiver, storedWei, storedToken);\n        }\n        if (weiReceiver < storedWei) weiReceiver = storedWei;\n        if (tokenReceiver < storedToken) tokenReceiver = storedToken;\n",
            "        if (weiReceiver < storedWei || tokenReceiver < storedToken) {\n            revert ThreadStateNotNewer(weiReceiver, tokenReceiver, storedWei, storedToken);\n        }\n",
        ),
    ),
    _m(
        "v3-m1-code-first",
        "v3-fix",
        "signers with code judged by ERC-1271 only, before their key (M-1)",
        "§3.3 key signatures first; M-1; property 10.10",
        (
            "        if (_isValidKeySignature(signer, digest, sig)) return true;\n        return signer.code.length != 0 && SignatureChecker.isValidERC1271SignatureNow(signer, digest, sig);\n",
            "        if (signer.code.length != 0) return SignatureChecker.isValidERC1271SignatureNow(signer, digest, sig);\n        return _isValidKeySignature(signer, digest, sig);\n",
        ),
    ),
    _m(
        "v3-m1-empty-thread-sig",
        "v3-fix",
        "emptyThread re-checks the sender's signature (revocable settlement, M-1)",
        "§8.4 emptyThread does not check sig; property 10.10",
        (
            "    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata)\n",
            "    function emptyThread(address user, ThreadState calldata initial, bytes32[] calldata proof, bytes calldata sig)\n",
        ),
        (
            "        _requireInRoot(proof, root, leaf);\n        _emptyThreadSide(user, initial);\n",
            "        _requireInRoot(proof, root, leaf);\n        if (!_isValidSignatureNow(initial.sender, _hashTypedDataV4(leaf), sig)) revert InvalidThreadSignature(initial.sender);\n        _emptyThreadSide(user, initial);\n",
        ),
    ),
    _m(
        "v3-l1-surplus-channel",
        "v3-fix",
        "emptying a channel with no thread leaves the surplus locked (L-1)",
        "§6 emptying 4, §8.7 nothing is stranded; L-1; property 10.5",
        (
            "            if (channel.threadCount == 0) {\n                weiUser = channel.weiTotal - weiHub;\n                tokenUser = channel.tokenTotal - tokenHub;\n            }\n",
            "",
        ),
    ),
    _m(
        "v3-l1-surplus-thread",
        "v3-fix",
        "settling the last thread does not pay what else the channel held",
        "§8.5 step 4, §8.7; L-1; property 10.1",
        ("            weiPaid += weiRest;\n", ""),
    ),
    _m(
        "v3-i1-recipient",
        "v3-fix",
        "the contract itself accepted as withdrawal recipient (I-1)",
        "§5 InvalidRecipient; I-1; property 10.4",
        # The guard also serves claim: both authorized updates lose their call instead.
        (
            "        _requireRecipient(state.recipient, true);\n        _requireAuthorizedUpdate",
            "        _requireAuthorizedUpdate",
        ),
        (
            "        _requireRecipient(state.recipient, true);\n        _requireDepositValue",
            "        _requireDepositValue",
        ),
    ),
    _m(
        "v3-i1-claim-to",
        "v3-fix",
        "claim to the contract itself or to zero accepted (I-1)",
        "§7 InvalidRecipient (claim); I-1",
        _drop("        _requireRecipient(to, false);\n"),
    ),
    _m(
        "rule-nothing-to-claim",
        "rule",
        "claim with no credit succeeds",
        "§7 NothingToClaim",
        (
            "if (credit.weiAmount == 0 && credit.tokenAmount == 0) revert NothingToClaim",
            "if (false) revert NothingToClaim",
        ),
    ),
)


# ---------------------------------------------------------------------------- generated
_GUARD = re.compile(r"^\s*if \((?P<cond>.*)\) revert (?P<error>\w+)\(")
_BOUNDARY = re.compile(r"(?<![<>=!])(<=|>=|<|>)(?![<>=])")
_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
_NAME = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def generated_mutants(text: str) -> list[Mutant]:
    """Boundary swaps on every one-line guard `if (<condition>) revert Error(...)`: each `<`,
    `<=`, `>`, `>=` in the condition, one at a time. Lines that occur more than once are skipped
    (an edit must match exactly once)."""
    mutants = []
    seen_ids: dict[str, int] = {}
    for line in text.splitlines():
        match = _GUARD.match(line)
        if not match or text.count(line) != 1:
            continue
        cond_start = match.start("cond")
        for op in _BOUNDARY.finditer(match.group("cond")):
            at = cond_start + op.start()
            mutated = line[:at] + _SWAP[op.group()] + line[at + len(op.group()) :]
            base = f"gen-{match.group('error')}-{_NAME[op.group()]}-{_NAME[_SWAP[op.group()]]}"
            seen_ids[base] = seen_ids.get(base, 0) + 1
            ident = base if seen_ids[base] == 1 else f"{base}-{seen_ids[base]}"
            mutants.append(
                _m(
                    ident,
                    "generated",
                    f"`{op.group()}` to `{_SWAP[op.group()]}` in `{line.strip()[:90]}`",
                    f"the boundary of the {match.group('error')} guard",
                    (line, mutated),
                )
            )
    return mutants


def all_mutants(text: str | None = None) -> list[Mutant]:
    """Hand-written mutants, then generated ones whose edited text is new; every edit checked."""
    text = DEFAULT_CONTRACT.read_text() if text is None else text
    chosen: list[Mutant] = []
    results: set[str] = set()
    ids: set[str] = set()
    for mutant in (*HAND_WRITTEN, *generated_mutants(text)):
        mutated = mutant.apply(text)
        if mutated == text:
            raise MutantError(f"mutant {mutant.id}: the edit changes nothing")
        if mutant.id in ids:
            raise MutantError(f"mutant id {mutant.id} used twice")
        if mutated in results:
            continue  # the same edit as an earlier mutant
        ids.add(mutant.id)
        results.add(mutated)
        chosen.append(mutant)
    return chosen


def select(mutants: list[Mutant], ids: list[str] | None) -> list[Mutant]:
    """The named mutants (all without names); an unknown id is an error."""
    if not ids:
        return mutants
    known = {m.id: m for m in mutants}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise MutantError(f"unknown mutant id(s): {', '.join(unknown)} (see --list)")
    return [known[i] for i in ids]


# ---------------------------------------------------------------------------- building
def strip_metadata(runtime: bytes) -> bytes:
    """Runtime code without solc's CBOR metadata trailer (it hashes the source text, so any
    edit, even a comment, would change it)."""
    if len(runtime) < 2:
        return runtime
    length = int.from_bytes(runtime[-2:], "big")
    return runtime[: -(length + 2)] if length + 2 <= len(runtime) else runtime


def mutant_path(mutant: Mutant, root: Path = MUTANT_DIR) -> Path:
    return root / mutant.id / "contracts" / "ChannelManager.sol"


def write_mutant(mutant: Mutant, text: str | None = None, root: Path = MUTANT_DIR) -> Path:
    """The mutated contract on disk with the interface beside it; files are rewritten only when
    their content changed (so the compile cache keeps working)."""
    text = DEFAULT_CONTRACT.read_text() if text is None else text
    path = mutant_path(mutant, root)
    interface = path.parent.parent / "interfaces" / "IChannelManager.sol"
    for target, content in ((path, mutant.apply(text)), (interface, INTERFACE_PATH.read_text())):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text() != content:
            target.write_text(content)
    return path


def build_mutant(
    mutant: Mutant, baseline: Artifact | None = None, root: Path = MUTANT_DIR
) -> Artifact:
    """Write, compile and check one mutant; raises MutantError (one line) if its runtime code,
    metadata stripped, equals the unmutated contract's."""
    baseline = baseline or load_channel_manager(DEFAULT_CONTRACT)
    artifact = load_channel_manager(write_mutant(mutant, root=root))
    if strip_metadata(artifact.deployed_bytecode) == strip_metadata(baseline.deployed_bytecode):
        raise MutantError(
            f"mutant {mutant.id}: compiles to the same runtime code as the contract (equivalent)"
        )
    return artifact


def clean(root: Path = MUTANT_DIR) -> None:
    shutil.rmtree(root, ignore_errors=True)
