"""Campaign shards as Dask tasks: a local cluster of single-threaded worker processes, or any
Dask scheduler, running `fuzzing.engine` campaigns seed by seed.

A shard is one engine campaign: a seed, an oracle, a mode and a budget (steps, or seconds up to a
shared deadline). Shards are independent and deterministic per (seed, steps), so a shard that ran
on any worker replays on one machine (fuzzing/replay.py). Each worker process runs one shard at a
time: the engine is pure Python around one in-process revm chain, so threads would only share
one interpreter lock.

While a shard runs it reports progress (steps, path hits) to the client through Dask's structured
events (`Worker.log_event` / `Client.subscribe_topic`); a failure is shrunk on the worker that
found it, and, unless the campaign keeps going, a Dask `Event` tells the other running shards to
stop.

Counting what the engine does not return. `run_campaign` returns path hits only at its end and
does not count its actions, so inside a shard `fuzzing.engine.campaign`'s `Actors` and
`PathCounter` are replaced by subclasses (in the worker process only; the engine's files are
untouched) that count each action's calls, early returns (the action found nothing to do) and
transactions, and expose the live path counter to the progress callback. Neither subclass draws
a random number or changes a call, so shards stay deterministic; if the engine renames those
names, shards still run and the report says the action counts are unavailable.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from fuzzing.artifacts import Artifact
from fuzzing.replay import ReplaySpec, episode_length, failure_result, shrink

MODES = ("first", "hunt")
PROGRESS_EVERY = 2.0  # seconds between a shard's progress events
STOP_POLL_EVERY = 2.0  # seconds between a shard's looks at the campaign's stop event


@dataclass(frozen=True)
class ContractRef:
    """The contract a campaign runs, as the replay blob names it."""

    path: str  # absolute
    source_sha256: str
    bytecode_sha256: str

    def replay_spec(
        self, shard: ShardSpec, mode: str, steps: int, prop: str, episode: int | None = None
    ) -> ReplaySpec:
        """How to replay a failure of `prop` that `shard` found on this contract."""
        return ReplaySpec(
            self.path,
            self.source_sha256,
            self.bytecode_sha256,
            shard.oracle,
            shard.seed,
            mode,
            steps,
            prop,
            episode,
        )


@dataclass(frozen=True)
class ShardSpec:
    index: int
    seed: int
    oracle: str
    mode: str  # "first": stop at the shard's first failure; "hunt": first failure of every property
    max_steps: int | None
    budget_seconds: float | None


def plan_shards(
    seeds: list[int],
    *,
    oracle: str,
    mode: str,
    total_steps: int | None = None,
    budget_seconds: float | None = None,
) -> list[ShardSpec]:
    """One shard per seed. A step budget is split evenly (the first shards take the remainder);
    a time budget gives every shard `budget_seconds` (the runner also cuts it at the deadline)."""
    if (total_steps is None) == (budget_seconds is None):
        raise ValueError("give exactly one of total_steps and budget_seconds")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    shards = []
    for i, seed in enumerate(seeds):
        steps = None
        if total_steps is not None:
            steps = total_steps // len(seeds) + (1 if i < total_steps % len(seeds) else 0)
        shards.append(ShardSpec(i, seed, oracle, mode, steps, budget_seconds))
    return [s for s in shards if s.max_steps is None or s.max_steps > 0]


# ---------------------------------------------------------------------------- probes
_local = threading.local()
_installed: bool | None = None


class _Probe:
    """Counts of one shard's main run: the live path counter and every action's figures."""

    def __init__(self) -> None:
        self.paths: Any = None
        self.rules: dict[str, list[int]] = {}  # action -> [calls, early returns, transactions]
        self.depth = 0

    def wrap(self, rule: str, method: Callable[[], Any], actors: Any) -> Callable[..., Any]:
        stats = self.rules.setdefault(rule, [0, 0, 0])

        def counted(*args: Any, **kwargs: Any) -> Any:
            outer = self.depth == 0  # an action calling another counts once, as itself
            self.depth += 1
            before = actors.ep.steps
            returned, acted = False, None
            try:
                acted = method(*args, **kwargs)
                returned = True
                return acted
            finally:
                self.depth -= 1
                if outer:
                    stats[0] += 1
                    stats[1] += returned and not acted
                    stats[2] += actors.ep.steps - before

        return counted

    def path_snapshot(self) -> dict[str, int] | None:
        if self.paths is None:
            return None
        return {name: int(n) for name, n in self.paths.paths.items()}


def install_probes() -> bool:
    """Replace the engine's Actors and PathCounter in this process by counting subclasses (once)."""
    global _installed
    if _installed is not None:
        return _installed
    try:
        import fuzzing.engine.campaign as engine

        base_actors, base_paths = engine.Actors, engine.PathCounter
    except (ImportError, AttributeError):
        _installed = False
        return False

    class CountingActors(base_actors):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            probe = getattr(_local, "probe", None)
            if probe is None or not hasattr(self, "ep"):
                return
            for name in dir(type(self)):
                if name.startswith("act_"):
                    setattr(self, name, probe.wrap(name[4:], getattr(self, name), self))

    class ProbedPaths(base_paths):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            probe = getattr(_local, "probe", None)
            if probe is not None and probe.paths is None:
                probe.paths = self

    engine.Actors = CountingActors
    engine.PathCounter = ProbedPaths
    _installed = True
    return True


# ---------------------------------------------------------------------------- one shard
class _Stopped(Exception):
    """The campaign asked this shard to stop (another shard failed)."""


def _worker_identity() -> dict[str, Any]:
    identity = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "worker": f"local pid {os.getpid()}",
        "address": "",
    }
    try:
        from distributed import get_worker

        worker = get_worker()
        identity["worker"] = str(worker.name)
        identity["address"] = worker.address
    except (ImportError, ValueError):
        pass
    return identity


def _emitter(topic: str | None) -> Callable[[dict[str, Any]], None]:
    if topic is None:
        return lambda message: None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return lambda message: None
    return lambda message: worker.log_event(topic, message)


class _StopCheck:
    def __init__(self, name: str | None) -> None:
        self.name = name
        self.last = -STOP_POLL_EVERY  # the first look is immediate
        self.event: Any = None

    def __call__(self) -> bool:
        if self.name is None or time.monotonic() - self.last < STOP_POLL_EVERY:
            return False
        self.last = time.monotonic()
        try:
            from distributed import Event

            if self.event is None:
                self.event = Event(self.name)
            return bool(self.event.is_set())
        except Exception:  # no scheduler to ask (local replay): never stop
            self.name = None
            return False


#: The verdict's figures a shard's result copies as they are.
_VERDICT_COUNTS = ("steps", "replay_steps", "episodes", "property_checks", "seconds", "cpu_seconds")


def _no_counts() -> dict[str, Any]:
    """A shard's counted results before it has run (every count zero, nothing found)."""
    return {
        "steps": 0,
        "replay_steps": 0,
        "episodes": 0,
        "property_checks": 0,
        "seconds": 0.0,
        "cpu_seconds": 0.0,
        "path_hits": {},
        "outcomes": {},
        "never_reached": [],
        "rules": None,
        "failures": [],
    }


def run_shard(
    spec: ShardSpec,
    artifact: Artifact,
    contract: ContractRef,
    *,
    topic: str | None = None,
    stop_event: str | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """Run one shard (on a Dask worker, or in this process) and return its counted results."""
    from fuzzing.engine.campaign import hunt, run_campaign

    identity = _worker_identity()
    emit = _emitter(topic)
    should_stop = _StopCheck(stop_event)
    probed = install_probes()
    probe = _Probe()
    result: dict[str, Any] = {
        **asdict(spec),
        **identity,
        "status": "passed",
        "started_at": time.time(),
        **_no_counts(),
        "error": None,
        "last_progress_steps": 0,
    }
    budget = spec.budget_seconds
    if deadline is not None and budget is not None:
        budget = min(budget, deadline - time.time())
        if budget <= 0.5:
            result.update(status="skipped", finished_at=time.time())
            return result
    if should_stop():  # another shard failed before this one started
        result.update(status="stopped", finished_at=time.time())
        return result
    last_emit = 0.0

    def progress(p: Any) -> None:
        nonlocal last_emit
        result["last_progress_steps"] = p.steps
        if p.elapsed - last_emit >= PROGRESS_EVERY:
            last_emit = p.elapsed
            emit(
                {
                    "kind": "progress",
                    "shard": spec.index,
                    "steps": p.steps,
                    "elapsed": p.elapsed,
                    "paths": probe.path_snapshot(),
                }
            )
        if should_stop():
            raise _Stopped()

    _local.probe = probe
    findings: list[Any] = []
    try:
        play: dict[str, Any] = {
            "seed": spec.seed,
            "budget_seconds": budget,
            "max_steps": spec.max_steps,
            "oracle": spec.oracle,
            "progress": progress,
        }
        if spec.mode == "hunt":
            verdict, findings = hunt(artifact, **play)
        else:
            verdict = run_campaign(artifact, **play)
    except _Stopped:
        result.update(status="stopped", finished_at=time.time())
        return result
    except Exception as exc:  # an engine crash is reported, never taken for a pass
        result.update(
            status="error",
            finished_at=time.time(),
            error=traceback.format_exc(),
            seconds=time.time() - result["started_at"],
        )
        steps = spec.max_steps or result["last_progress_steps"]
        replay = contract.replay_spec(spec, "first", steps, f"engine-error:{type(exc).__name__}")
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        result["failures"].append(
            {
                "property": replay.property,
                "detail": first_line,
                "steps": result["last_progress_steps"],
                "seconds": result["seconds"],
                "episode": None,
                "episode_steps": 0,
                "counterexample": [],
                "blob": replay.to_blob(),
                "spec": asdict(replay),
                "shrunk": None,
                "shrink_note": "engine errors are not shrunk",
            }
        )
        return result
    finally:
        _local.probe = None
    result.update({count: getattr(verdict, count) for count in _VERDICT_COUNTS})
    result.update(
        path_hits=dict(verdict.path_hits),
        outcomes={fn: dict(c) for fn, c in verdict.outcomes.items()},
        never_reached=list(verdict.never_reached),
        rules={
            name: {"calls": c, "early_returns": e, "transactions": t}
            for name, (c, e, t) in probe.rules.items()
        }
        if probed
        else None,
    )
    failed = [failure_result(f, episode_steps=None) for f in findings]
    if spec.mode == "first" and not verdict.passed:
        failed = [failure_result(verdict, verdict.episode_steps)]
    for found in failed:
        prop, episode, episode_steps = found.failure, found.episode, found.episode_steps
        emit({"kind": "shrinking", "shard": spec.index, "property": prop})
        replay = contract.replay_spec(spec, spec.mode, verdict.replay_steps, prop, episode)
        record = {
            "property": prop,
            "detail": found.detail,
            "steps": found.steps,
            "seconds": found.seconds,
            "episode": episode,
            "episode_steps": episode_steps,
            "counterexample": found.counterexample,
            "shrunk": None,
            "shrink_note": "",
        }
        if episode is not None:
            upper = episode_steps if episode_steps else episode_length(spec.seed, episode)
            shrunk = shrink(
                artifact,
                seed=spec.seed,
                oracle=spec.oracle,
                prop=prop,
                episode=episode,
                upper=upper,
            )
            if shrunk is None:
                record["shrink_note"] = (
                    f"episode {episode} alone does not fail with {prop}; replay the whole shard"
                )
            else:
                replay = ReplaySpec(**{**asdict(replay), "episode_steps": shrunk.steps})
                record["shrunk"] = {
                    "episode": shrunk.episode,
                    "steps": shrunk.steps,
                    "tries": shrunk.tries,
                    "seconds": shrunk.seconds,
                    "detail": shrunk.result.detail,
                    "counterexample": list(shrunk.result.counterexample),
                    "from_steps": upper,
                }
        record["blob"] = replay.to_blob()
        record["spec"] = asdict(replay)
        result["failures"].append(record)
    if result["failures"]:
        result["status"] = "failed"
    result["finished_at"] = time.time()
    return result


# ---------------------------------------------------------------------------- the cluster
class ClusterError(Exception):
    """The Dask scheduler cannot be reached or has no workers; the message is one line."""


class DaskCampaign:
    """A Dask client on a new LocalCluster (`scheduler=None`) or on an existing scheduler."""

    def __init__(
        self, *, scheduler: str | None, workers: int, connect_timeout: float = 20.0
    ) -> None:
        from distributed import Client, LocalCluster

        self.cluster = None
        self.scheduler = scheduler
        self.interrupted = False
        if scheduler is None:
            # no dashboard (bokeh is not a dependency); the scheduler's HTTP endpoint still starts,
            # so it gets a free port rather than a warning when 8787 is taken
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {scheduler}: {exc}"
                ) from None
            try:
                self.client.wait_for_workers(1, timeout=connect_timeout)
            except TimeoutError:
                self.client.close()
                raise ClusterError(f"the Dask scheduler at {scheduler} has no workers") from None

    def worker_slots(self) -> int:
        """Tasks the cluster runs at once (threads over all workers)."""
        return sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values())

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> DaskCampaign:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def run(
        self,
        shards: list[ShardSpec],
        artifact: Artifact,
        contract: ContractRef,
        *,
        keep_going: bool,
        deadline: float | None,
        on_event: Callable[[dict[str, Any]], None],
        tick: float = 0.5,
    ) -> list[dict[str, Any]]:
        """Run every shard; call `on_event` (in this thread) for each progress, shrinking and
        finished-shard event and every `tick` seconds ({"kind": "tick"}). Without `keep_going`
        the first failed shard stops the rest (waiting shards return at once, running ones at
        their next look at the stop event). Ctrl-C stops every shard the same way and returns
        what finished (`self.interrupted` is then True); a second Ctrl-C gives up at once."""
        from distributed import Event

        campaign = uuid.uuid4().hex[:12]
        topic, stop_name = f"campaign-{campaign}", f"campaign-stop-{campaign}"
        events: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self.client.subscribe_topic(topic, lambda event: events.put(event[1]))
        stop = Event(stop_name, client=self.client)
        shipped = self.client.scatter(
            Artifact(
                artifact.name,
                artifact.abi,
                artifact.bytecode,
                artifact.deployed_bytecode,
                artifact.source_path,
            ),
            broadcast=True,
        )
        futures = {
            self.client.submit(
                run_shard,
                spec,
                shipped,
                contract,
                topic=topic,
                stop_event=stop_name,
                deadline=deadline,
                key=f"shard-{spec.index}-{campaign}",
                pure=False,
            ): spec
            for spec in shards
        }
        results: dict[int, dict[str, Any]] = {}
        stopping = False
        give_up_at = None  # after Ctrl-C: when to stop waiting for shards to notice the stop
        try:
            while len(results) < len(shards):
                try:
                    time.sleep(tick)
                    while True:
                        try:
                            on_event(events.get_nowait())
                        except queue.Empty:
                            break
                    for future, spec in futures.items():
                        if spec.index in results or future.status == "pending":
                            continue
                        result = self._collect(future, spec)
                        results[spec.index] = result
                        on_event({"kind": "done", "shard": spec.index, "result": result})
                        if (
                            result["status"] in ("failed", "error")
                            and not keep_going
                            and not stopping
                        ):
                            stopping = True
                            stop.set()  # running shards stop at their next look, waiting ones at once
                    on_event({"kind": "tick"})
                except KeyboardInterrupt:
                    if give_up_at is not None:
                        raise
                    self.interrupted = stopping = True
                    # a terminal's Ctrl-C reaches the local workers too; their going is expected
                    logging.getLogger("distributed").setLevel(logging.CRITICAL)
                    stop.set()
                    give_up_at = time.monotonic() + 3 * STOP_POLL_EVERY
                    on_event({"kind": "interrupted"})
                if give_up_at is not None and time.monotonic() > give_up_at:
                    for future, spec in futures.items():
                        if spec.index not in results:
                            future.cancel()
                            results[spec.index] = self._collect(future, spec)
        finally:
            self.client.unsubscribe_topic(topic)
        while True:  # the last events sent before the final results
            try:
                on_event(events.get_nowait())
            except queue.Empty:
                break
        return [results[s.index] for s in shards]

    @staticmethod
    def _collect(future: Any, spec: ShardSpec) -> dict[str, Any]:
        if future.status == "finished":
            return future.result()
        base = {
            **asdict(spec),
            **_no_counts(),
            "worker": "",
            "address": "",
            "host": "",
            "pid": 0,
            "started_at": None,
            "finished_at": time.time(),
        }
        if future.status == "cancelled":
            return {**base, "status": "cancelled", "error": None}
        try:
            error = repr(future.exception())
        except Exception as exc:  # the exception itself could not be fetched
            error = repr(exc)
        return {**base, "status": "error", "error": f"the task failed on the cluster: {error}"}
