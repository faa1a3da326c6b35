"""Run one of the project's scripts on a brownie network, from any folder:

    python tools/run_script.py scripts/hub.py status --network sepolia
    python tools/run_script.py scripts/deploy.py --network anvil        # COMMAND defaults to main
    python tools/run_script.py research/gas_benchmark.py --network anvil-gas

It does what `brownie run SCRIPT [COMMAND] [ARG…] --network NAME` does (load and compile the
project, connect, call the script's function with the arguments), with two differences:

- the script is imported by its project-relative name (`scripts.hub`, `research.gas_benchmark`). `brownie run` turns the
  script's absolute path into a module name, so a checkout under a folder with a dot in its path
  (`~/src/github.com/org/repo`, `/tmp/x.y/repo`) fails there with `ModuleNotFoundError`;
- what can go wrong before the script runs is one line on stderr (`error: …`) and exit status 2,
  with nothing sent: an unknown network, a node that does not answer, a misspelt command, a wrong
  number of arguments, an unknown option. A traceback is left only for bugs.

The project is the folder above this file, whatever the current folder; argument paths (state
files) are read relative to the current folder. Exit status: the script's own (0 done, 1 failed or mismatch, 2 refused with
nothing sent, 3 sent but not finished), 130 when interrupted.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
USAGE = "usage: python tools/run_script.py SCRIPT [COMMAND] [ARG ...] --network NAME"
EXIT_REFUSED = 2
# deploy and operation scripts; benchmarks that need a chain (research/gas_benchmark.py)
SCRIPT_FOLDERS = ("scripts", "research")


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_REFUSED)


def parse_argv(argv: list[str]) -> tuple[str, str | None, list[str], str]:
    """(script, command, args, network) from the command line, options anywhere."""
    network = None
    words: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--network":
            network = next(items, None)
            if network is None:
                fail("--network needs a network name (`brownie networks list` shows them)")
        elif item.startswith("--network="):
            network = item.split("=", 1)[1]
        elif item in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        elif item.startswith("--"):
            fail(f"unknown option {item}: {USAGE}")
        else:
            words.append(item)
    if not words:
        fail(USAGE)
    if not network:
        fail(f"no network given: {USAGE}")
    command = words[1] if len(words) > 1 else None
    return words[0], command, words[2:], network


def script_module(script: str) -> tuple[str, Path]:
    """The module name (`scripts.<stem>`, `research.<stem>`) of a script given as a path or a
    bare name (bare names are looked up in scripts/)."""
    folders = [ROOT / name for name in SCRIPT_FOLDERS]
    given = Path(script)
    candidates = [given, ROOT / given, folders[0] / given]
    for candidate in candidates:
        path = candidate.with_suffix(".py") if candidate.suffix != ".py" else candidate
        if path.is_file():
            path = path.resolve()
            if path.parent not in [folder.resolve() for folder in folders]:
                fail(f"{script} is not a script of this project's scripts/ or research/ folder")
            return f"{path.parent.name}.{path.stem}", path
    fail(f"no script {script!r} in {ROOT / SCRIPT_FOLDERS[0]} (a path under research/ works too)")


def commands_of(module: Any) -> list[str]:
    """The functions a user may call: `main` and those marked as commands by scripts/_common."""
    names = [
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and (name == "main" or getattr(value, "is_command", False))
    ]
    return sorted(names)


def check_arguments(func: Any, name: str, args: list[str]) -> None:
    """The arguments fit the function's positional parameters (`env` is for the tests)."""
    target = inspect.unwrap(func)
    params = [
        p
        for p in inspect.signature(target).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in params if p.default is p.empty]
    if len(required) <= len(args) <= len(params):
        return
    names = " ".join(
        p.name.upper() if p.default is p.empty else f"[{p.name.upper()}]" for p in params
    )
    expected = f"{name} {names}".strip()
    fail(f"wrong number of arguments: usage is `{expected}`, got {len(args)}")


def main(argv: list[str]) -> int:
    script, command, args, network_name = parse_argv(argv)
    module_name, script_path = script_module(script)

    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    warnings.filterwarnings("ignore", category=FutureWarning)
    from brownie import network, project
    from brownie._config import CONFIG
    from brownie.exceptions import BrownieEnvironmentWarning

    # "Development network has a block height of N": attaching to a running local chain is normal
    warnings.filterwarnings("ignore", category=BrownieEnvironmentWarning)

    # brownie reads some project files relative to the current folder: load and connect from
    # the project, then run the script from the caller's folder (its file arguments are theirs)
    caller_folder = Path.cwd()
    os.chdir(ROOT)
    active = project.load(ROOT, raise_if_loaded=False)
    active.load_config()
    if network_name not in CONFIG.networks:
        fail(
            f"unknown network {network_name!r}: `brownie networks list` shows the known ones"
            " (docs/operations.md: registering a network)"
        )
    CONFIG.argv.update({"network": network_name, "cli": "run"})
    host = CONFIG.networks[network_name].get("host", "?")
    try:
        network.connect(network_name)
    except Exception as exc:  # node down (live: brownie reads saved deployments at once), bad host
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        fail(f"cannot connect to network {network_name!r} at {host}: {text}")
    if not network.is_connected():
        fail(f"the node of network {network_name!r} at {host} does not answer (is it running?)")

    active._add_to_main_namespace()
    sys.path.insert(0, str(ROOT))
    module = importlib.import_module(module_name)
    os.chdir(caller_folder)
    name = command or "main"
    func = getattr(module, name, None)
    if name not in commands_of(module) or not callable(func):
        known = ", ".join(commands_of(module)) or "none"
        fail(f"{script_path.relative_to(ROOT)} has no command {name!r} (commands: {known})")
    check_arguments(func, name, args)
    try:
        func(*args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
