"""Replaying one shard of a campaign on one machine: the replay blob, the shrink, the store.

A campaign shard is a pure function of (contract, oracle, seed, step budget): the engine plays
the same transactions whatever the machine (fuzzing/engine/campaign.py). A `ReplaySpec` names
exactly that, plus the property that failed and the failing episode, and travels as a BLOB
(url-safe base64 of compact JSON) that `research/campaign.py --replay BLOB` takes back.

Two replays exist:
- the shard: `run_campaign(seed, max_steps=steps)` (mode "first": the shard stopped at its first
  failure) or `hunt(seed, max_steps=steps, want={property})` (mode "hunt": the shard went on after
  failures and this property was one of them);
- the shrunk episode: the failing episode alone (episodes run on fresh chains, so an episode
  replays by itself), cut to the shortest step prefix that still fails with the same property.

The shrink is a bisection on that prefix length (each try is the episode alone, cut short, then
its end-of-episode drive); it keeps a prefix that was seen to fail, but the boundary it finds is
not proven minimal (a failure need not be monotone in the prefix length).

The saved-failure store is a folder of JSON files, one per failure, each holding a blob; a later
campaign on the same contract and oracle replays them first unless it runs with `--fresh`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fuzzing.artifacts import Artifact

BLOB_VERSION = 1
MODES = ("first", "hunt")


class BlobError(Exception):
    """A replay blob that cannot be read; the message is one line."""


FINGERPRINT_HEX = 16  # of sha256: enough to tell a changed file, short enough for a pasted blob


def sha256_file(path: str | Path) -> str:
    """The file's sha256, first 16 hex digits."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:FINGERPRINT_HEX]


def bytecode_sha256(artifact: Artifact) -> str:
    """The creation code's sha256, first 16 hex digits."""
    return hashlib.sha256(artifact.bytecode).hexdigest()[:FINGERPRINT_HEX]


@dataclass(frozen=True)
class ReplaySpec:
    """Everything needed to replay one failing shard: contract, oracle, seed, step budget."""

    contract: str  # absolute path of the Solidity file
    source_sha256: str  # of that file when the failure was found (first 16 hex digits)
    bytecode_sha256: str  # of the creation code the campaign ran (first 16 hex digits)
    oracle: str
    seed: int
    mode: str  # "first" or "hunt"
    steps: int  # the shard's --steps: replaying this many main-play steps gives the same run
    property: str  # the property (or disagreement) that failed
    episode: int | None = None  # the failing episode
    episode_steps: int | None = None  # its shrunk prefix (None: not shrunk)

    def to_blob(self) -> str:
        data = {"v": BLOB_VERSION, **asdict(self)}
        raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_blob(cls, blob: str) -> ReplaySpec:
        text = blob.strip()
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BlobError(
                "the replay blob is not base64 of JSON (copy it whole from the campaign output)"
            ) from None
        if not isinstance(data, dict) or data.get("v") != BLOB_VERSION:
            raise BlobError(
                f"the replay blob has version {data.get('v') if isinstance(data, dict) else '?'}, "
                f"this runner reads version {BLOB_VERSION}"
            )
        data.pop("v")
        try:
            spec = cls(**data)
        except TypeError as exc:
            raise BlobError(f"the replay blob lacks a field: {exc}") from None
        if spec.mode not in MODES:
            raise BlobError(
                f"the replay blob has mode {spec.mode!r}, expected one of {', '.join(MODES)}"
            )
        return spec


@dataclass
class ReplayResult:
    """What a replay saw: the failing property (None: it passed) and the run's figures."""

    failure: str | None
    detail: str
    steps: int
    seconds: float
    episode: int | None
    episode_steps: int | None  # None: a hunt's finding, which does not count them
    counterexample: list[str] = field(default_factory=list)

    def reproduces(self, spec: ReplaySpec) -> bool:
        return self.failure == spec.property


def failure_result(failed: Any, episode_steps: int | None = 0) -> ReplayResult:
    """The ReplayResult of a failed verdict or of one finding of a hunt (findings do not count
    their episode's steps)."""
    return ReplayResult(
        failed.failure,
        failed.detail,
        failed.steps,
        failed.seconds,
        failed.episode,
        episode_steps,
        list(failed.counterexample),
    )


def _from_verdict(
    verdict: Any, prop: str | None = None, findings: list[Any] | None = None
) -> ReplayResult:
    if findings is not None and prop is not None:
        first = findings[0] if findings else None
        found = next((f for f in findings if f.failure == prop), first)
        if found is None:
            return ReplayResult(None, "", verdict.steps, verdict.seconds, None, 0, [])
        return failure_result(found)
    return failure_result(verdict, verdict.episode_steps)


def replay_shard(
    spec: ReplaySpec, artifact: Artifact, progress: Callable[[Any], Any] | None = None
) -> ReplayResult:
    """The whole shard, from its first episode, exactly as the campaign ran it."""
    from fuzzing.engine.campaign import hunt, run_campaign

    if spec.mode == "hunt":
        verdict, findings = hunt(
            artifact,
            seed=spec.seed,
            max_steps=spec.steps,
            oracle=spec.oracle,
            want={spec.property},
            progress=progress,
        )
        return _from_verdict(verdict, spec.property, findings)
    verdict = run_campaign(
        artifact, seed=spec.seed, max_steps=spec.steps, oracle=spec.oracle, progress=progress
    )
    return _from_verdict(verdict)


def replay_episode(
    artifact: Artifact, *, seed: int, oracle: str, episode: int, steps: int
) -> ReplayResult:
    """Episode `episode` of the campaign with seed `seed` alone, its main play cut at `steps`.

    Uses the engine's `_campaign(only_episode=...)`, the same entry `research/fuzz.py --episode`
    uses (run_campaign does not expose it)."""
    from fuzzing.engine.campaign import _campaign

    verdict, _ = _campaign(
        artifact,
        seed=seed,
        budget_seconds=None,
        max_steps=max(steps, 0),
        oracle=oracle,
        progress=None,
        only_episode=episode,
    )
    return _from_verdict(verdict)


def replay_failure(
    spec: ReplaySpec,
    artifact: Artifact,
    *,
    episode_only: bool,
    progress: Callable[[Any], Any] | None = None,
) -> ReplayResult:
    """Replay a saved failure: its shrunk episode alone (`episode_only`), or its whole shard."""
    if episode_only:
        return replay_episode(
            artifact,
            seed=spec.seed,
            oracle=spec.oracle,
            episode=spec.episode,
            steps=spec.episode_steps,
        )
    return replay_shard(spec, artifact, progress=progress)


def episode_length(seed: int, episode: int) -> int:
    """The planned main-play length of an episode (an upper bound for its failing prefix)."""
    from fuzzing.engine.campaign import plans

    for plan in plans(seed):
        if plan.index == episode:
            return plan.length
    raise AssertionError("unreachable: plans() is infinite")


@dataclass
class Shrunk:
    """The failing episode alone, cut to the shortest failing prefix the bisection found."""

    episode: int
    steps: int  # main-play steps of the prefix
    tries: int
    seconds: float
    result: ReplayResult


def shrink(
    artifact: Artifact,
    *,
    seed: int,
    oracle: str,
    prop: str,
    episode: int,
    upper: int,
    on_try: Callable[[int, bool], Any] | None = None,
) -> Shrunk | None:
    """Bisect the failing episode's prefix length in [1, upper]; None if the episode alone does
    not fail with `prop` at `upper` steps (then only the whole-shard replay is exact)."""
    started = time.perf_counter()
    tries = 0

    def attempt(n: int) -> ReplayResult | None:
        nonlocal tries
        tries += 1
        result = replay_episode(artifact, seed=seed, oracle=oracle, episode=episode, steps=n)
        ok = result.failure == prop
        if on_try is not None:
            on_try(n, ok)
        return result if ok else None

    best = attempt(upper)
    if best is None:
        return None
    low, high = 0, upper  # `high` fails; `low` is not known to fail
    while high - low > 1:
        mid = (low + high) // 2
        result = attempt(mid)
        if result is not None:
            high, best = mid, result
        else:
            low = mid
    return Shrunk(episode, high, tries, time.perf_counter() - started, best)


# ---------------------------------------------------------------------------- the store
@dataclass
class SavedFailure:
    path: Path
    blob: str
    spec: ReplaySpec
    found_at: str
    detail: str


class FailureStore:
    """One JSON file per failure under `folder`, named by a hash of its blob."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def save(self, spec: ReplaySpec, detail: str, campaign: str = "") -> Path:
        blob = spec.to_blob()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{hashlib.sha256(blob.encode()).hexdigest()[:16]}.json"
        entry = {
            "blob": blob,
            "property": spec.property,
            "detail": detail,
            "contract": spec.contract,
            "seed": spec.seed,
            "oracle": spec.oracle,
            "campaign": campaign,
            "found_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(entry, indent=1) + "\n")
        partial.replace(path)
        return path

    def entries(self) -> list[SavedFailure]:
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                entry = json.loads(path.read_text())
                spec = ReplaySpec.from_blob(entry["blob"])
            except (OSError, ValueError, KeyError, BlobError):
                continue  # not ours, or damaged: never replayed, never deleted
            found.append(
                SavedFailure(
                    path, entry["blob"], spec, entry.get("found_at", ""), entry.get("detail", "")
                )
            )
        return found

    def matching(self, contract: str | Path, oracle: str) -> list[SavedFailure]:
        """Saved failures of this contract file (by path) and oracle, oldest file name first."""
        wanted = str(Path(contract).expanduser().resolve())
        return [e for e in self.entries() if e.spec.contract == wanted and e.spec.oracle == oracle]

    def forget(self, entry: SavedFailure) -> None:
        entry.path.unlink(missing_ok=True)
