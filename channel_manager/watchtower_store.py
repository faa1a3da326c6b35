"""The watchtower's memory: an embedded SQLite file holding, for one ChannelManager deployment,
the newest double-signed channel state and the best sender-signed thread state it was given,
the disputes it has seen, the last block it processed, and a log of every decision.

A state is verified before it is kept (signatures recovered against the deployment's EIP-712
digest) and replaces the stored one only when it is newer: a higher `txCount[0]` for channels;
for threads a higher receiver balance of some asset and a lower one of none, since on chain the
receiver's balances decide a thread dispute, not its txCount (docs/protocol.md §8). The file is
bound to one deployment: chain id, genesis hash (a rehearsal chain can reuse a public chain id),
contract and hub. Writes are transactions on a WAL journal with `synchronous=FULL`, so a watchtower
killed at any point restarts from a consistent file: either an event batch and its block marker
are both stored, or neither is (`transaction()`).

No brownie here: the watchtower script (`scripts/watchtower.py`) reads the chain and calls this.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from channel_manager.eip712 import Domain, channel_digest, thread_digest
from channel_manager.signing import WrongSigner, check_signer
from channel_manager.states import ChannelState, ThreadState

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channel_states (
    user TEXT PRIMARY KEY,
    tx_global INTEGER NOT NULL,
    tx_chain INTEGER NOT NULL,
    state TEXT NOT NULL,
    sig_hub TEXT NOT NULL,
    sig_user TEXT NOT NULL,
    stored_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS thread_states (
    sender TEXT NOT NULL,
    receiver TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    tx_count INTEGER NOT NULL,
    state TEXT NOT NULL,
    sig TEXT NOT NULL,
    stored_at INTEGER NOT NULL,
    PRIMARY KEY (sender, receiver, thread_id)
);
CREATE TABLE IF NOT EXISTS disputes (
    kind TEXT NOT NULL,              -- 'channel' | 'thread'
    key TEXT NOT NULL,               -- user, or sender:receiver:threadId
    user TEXT NOT NULL,              -- the channel the dispute runs in
    closing_time INTEGER NOT NULL,
    tx_count INTEGER NOT NULL,       -- the disputed state's (global) txCount
    initiator TEXT NOT NULL,         -- who started it
    opened_block INTEGER NOT NULL,
    status TEXT NOT NULL,            -- 'open' | 'answered' | 'closed'
    answer_tx TEXT,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,             -- unix time of the decision (wall clock)
    block INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""


class StoreError(Exception):
    """A state was refused, or the file belongs to another deployment."""


@dataclass(frozen=True)
class StoredChannel:
    state: ChannelState
    sig_hub: bytes
    sig_user: bytes


@dataclass(frozen=True)
class StoredThread:
    state: ThreadState
    sig: bytes


@dataclass(frozen=True)
class Dispute:
    kind: str
    key: str
    user: str
    closing_time: int
    tx_count: int
    initiator: str
    opened_block: int
    status: str
    answer_tx: str | None


@dataclass(frozen=True)
class Decision:
    at: int
    block: int
    kind: str
    key: str
    action: str
    detail: str


def thread_key(sender: str, receiver: str, thread_id: int) -> str:
    return f"{sender}:{receiver}:{int(thread_id)}"


class WatchtowerStore:
    """One deployment's watchtower data in the SQLite file at `path` (":memory:" for tests)."""

    def __init__(
        self, path: str | Path, domain: Domain, hub: str, *, genesis: str | None = None
    ) -> None:
        self.path = str(path)
        self.domain = domain
        self.hub = hub
        self.genesis = genesis
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        self._bind_deployment()

    def close(self) -> None:
        self._db.close()

    # ---------------------------------------------------------------- transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all (nested uses join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # ---------------------------------------------------------------- meta

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def _bind_deployment(self) -> None:
        expected = {
            "schema_version": str(SCHEMA_VERSION),
            "chain_id": str(self.domain.chain_id),
            "contract": self.domain.verifying_contract,
            "hub": self.hub,
        }
        if self.genesis is not None:
            expected["genesis_hash"] = self.genesis.lower()
        with self.transaction():
            for key, value in expected.items():
                stored = self._meta(key)
                if stored is None:
                    self._set_meta(key, value)
                elif stored != value:
                    raise StoreError(
                        f"watchtower store {self.path} belongs to {key} {stored}, not {value}"
                    )

    @property
    def last_block(self) -> int | None:
        """The last block whose events were processed, None before the first run."""
        value = self._meta("last_block")
        return None if value is None else int(value)

    def set_last_block(self, block: int) -> None:
        self._set_meta("last_block", str(int(block)))

    # ---------------------------------------------------------------- states

    def offer_channel(
        self,
        state: ChannelState,
        sig_hub: bytes,
        sig_user: bytes,
        *,
        user_is_contract: bool = False,
    ) -> bool:
        """Keep `state` if it is double-signed, usable in a dispute and newer than the one held.
        Returns True when it was stored, False when the store already holds one as new or newer.
        A contract-wallet user signs through ERC-1271, which cannot be checked here: pass
        `user_is_contract=True` to accept its signature unchecked (the chain checks it)."""
        if state.timeout != 0:
            raise StoreError(
                f"state txCount {list(state.tx_count)} has a timeout: it cannot be used in a dispute"
                " (keep the newest state without one)"
            )
        digest = channel_digest(self.domain, state)
        self._require_signer(digest, sig_hub, self.hub, "hub")
        if not user_is_contract:
            self._require_signer(digest, sig_user, state.user, "user")
        with self.transaction():
            held = self.channel(state.user)
            if held is not None and held.state.tx_count[0] >= state.tx_count[0]:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO channel_states VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    state.user,
                    state.tx_count[0],
                    state.tx_count[1],
                    json.dumps(state.to_json_dict()),
                    "0x" + bytes(sig_hub).hex(),
                    "0x" + bytes(sig_user).hex(),
                    int(time.time()),
                ),
            )
        return True

    def offer_thread(
        self, state: ThreadState, sig: bytes, *, sender_is_contract: bool = False
    ) -> bool:
        """Keep a sender-signed thread state if it pays the receiver more than the one held: a
        higher receiver balance of some asset, a lower one of none (same sums required). A state
        that pays the receiver less in one asset is refused: the receiver would not accept it."""
        if not sender_is_contract:
            self._require_signer(thread_digest(self.domain, state), sig, state.sender, "sender")
        with self.transaction():
            held = self.thread(state.sender, state.receiver, state.thread_id)
            if held is not None:
                if (held.state.wei_sum, held.state.token_sum) != (state.wei_sum, state.token_sum):
                    raise StoreError("thread state changes the thread's sums (ThreadSumsChanged)")
                old = (held.state.wei_balances[1], held.state.token_balances[1])
                new = (state.wei_balances[1], state.token_balances[1])
                if new[0] < old[0] or new[1] < old[1]:
                    if new[0] <= old[0] and new[1] <= old[1]:
                        return False  # an older state: the held one pays the receiver more
                    raise StoreError(
                        f"thread state pays the receiver {list(new)}, less than the held {list(old)}"
                        " in one asset"
                    )
                if new == old:
                    return False
            self._db.execute(
                "INSERT OR REPLACE INTO thread_states VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    state.sender,
                    state.receiver,
                    str(state.thread_id),
                    state.tx_count,
                    json.dumps(state.to_json_dict()),
                    "0x" + bytes(sig).hex(),
                    int(time.time()),
                ),
            )
        return True

    def _require_signer(self, digest: bytes, signature: bytes, expected: str, role: str) -> None:
        try:
            check_signer(digest, signature, expected, role)
        except WrongSigner as exc:
            raise StoreError(str(exc)) from None

    def channel(self, user: str) -> StoredChannel | None:
        row = self._db.execute(
            "SELECT state, sig_hub, sig_user FROM channel_states WHERE user = ?", (user,)
        ).fetchone()
        if row is None:
            return None
        return StoredChannel(
            ChannelState.from_json(row[0]), bytes.fromhex(row[1][2:]), bytes.fromhex(row[2][2:])
        )

    def thread(self, sender: str, receiver: str, thread_id: int) -> StoredThread | None:
        row = self._db.execute(
            "SELECT state, sig FROM thread_states WHERE sender = ? AND receiver = ? AND thread_id = ?",
            (sender, receiver, str(int(thread_id))),
        ).fetchone()
        if row is None:
            return None
        return StoredThread(ThreadState.from_json(row[0]), bytes.fromhex(row[1][2:]))

    def channel_users(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT user FROM channel_states ORDER BY user")]

    def thread_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM thread_states").fetchone()[0])

    # ---------------------------------------------------------------- disputes

    def note_dispute(
        self,
        kind: str,
        key: str,
        user: str,
        closing_time: int,
        tx_count: int,
        initiator: str,
        block: int,
    ) -> bool:
        """Record a dispute seen in an event or a sweep. Returns False when it is already
        recorded (same key, deadline and block: an event read twice changes nothing); a new
        dispute of the same channel or thread replaces the old record and is open again."""
        cursor = self._db.execute(
            "INSERT INTO disputes VALUES (?, ?, ?, ?, ?, ?, ?, 'open', NULL)"
            " ON CONFLICT (kind, key) DO UPDATE SET closing_time = excluded.closing_time,"
            " tx_count = excluded.tx_count, initiator = excluded.initiator,"
            " opened_block = excluded.opened_block, status = 'open', answer_tx = NULL"
            " WHERE disputes.closing_time != excluded.closing_time"
            " OR disputes.opened_block != excluded.opened_block",
            (kind, key, user, int(closing_time), int(tx_count), initiator, int(block)),
        )
        return cursor.rowcount > 0

    def update_dispute_tx(self, kind: str, key: str, tx_count: int) -> None:
        self._db.execute(
            "UPDATE disputes SET tx_count = ? WHERE kind = ? AND key = ?",
            (int(tx_count), kind, key),
        )

    def set_dispute_status(
        self, kind: str, key: str, status: str, answer_tx: str | None = None
    ) -> None:
        self._db.execute(
            "UPDATE disputes SET status = ?, answer_tx = COALESCE(?, answer_tx) WHERE kind = ? AND key = ?",
            (status, answer_tx, kind, key),
        )

    def disputes(self, status: str | None = "open") -> list[Dispute]:
        query = "SELECT * FROM disputes"
        rows = (
            self._db.execute(query + " WHERE status = ? ORDER BY closing_time", (status,))
            if status
            else self._db.execute(query + " ORDER BY closing_time")
        )
        return [Dispute(*row) for row in rows]

    def dispute(self, kind: str, key: str) -> Dispute | None:
        row = self._db.execute(
            "SELECT * FROM disputes WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else Dispute(*row)

    # ---------------------------------------------------------------- decisions

    def log_decision(self, block: int, kind: str, key: str, action: str, detail: str) -> Decision:
        decision = Decision(int(time.time()), int(block), kind, key, action, detail)
        self._db.execute(
            "INSERT INTO decisions (at, block, kind, key, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (decision.at, decision.block, kind, key, action, detail),
        )
        return decision

    def decisions(self, limit: int | None = None) -> list[Decision]:
        query = "SELECT at, block, kind, key, action, detail FROM decisions ORDER BY id"
        rows = self._db.execute(query).fetchall()
        out = [Decision(*row) for row in rows]
        return out[-limit:] if limit else out
