"""docs/invariants.md maps each docs/protocol.md §10 property to the code that checks it; this keeps
the map true and complete:

- every `file::function` (or `file::Class.method`) it cites exists;
- every §10 property has a section of the same number and title, citing at least one checker;
- every property name the fuzzing engine's oracle can report, every `invariant_…` method of the
  stateful machines and every exploit regression test is cited.
Reading files only: no chain needed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "invariants.md"
ORACLE = ROOT / "fuzzing" / "engine" / "properties.py"
CITATION = re.compile(r"`([\w./-]+\.py)::([\w.]+)`")
PROPERTY_HEADING = re.compile(r"^### (10\.\d+) (.+)$", re.MULTILINE)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def citations() -> list[tuple[str, str]]:
    return sorted(set(CITATION.findall(doc_text())))


def definition(path: Path, dotted: str) -> ast.AST | None:
    """The function or class `dotted` names in the file (`name` or `Class.method`), if any."""
    scope: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    found: ast.AST | None = None
    for part in dotted.split("."):
        found = next(
            (
                node
                for node in scope
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and node.name == part
            ),
            None,
        )
        if found is None:
            return None
        scope = found.body  # type: ignore[attr-defined]
    return found


@pytest.mark.parametrize("path, name", citations(), ids=[f"{p}::{n}" for p, n in citations()])
def test_cited_code_exists(path, name):
    assert (ROOT / path).is_file(), f"docs/invariants.md cites {path}, which does not exist"
    assert definition(ROOT / path, name) is not None, (
        f"docs/invariants.md cites {path}::{name}, not defined there"
    )


def test_every_protocol_property_has_a_section_with_a_checker():
    protocol = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    properties = PROPERTY_HEADING.findall(protocol)
    assert properties, "no '### 10.N' property headings in docs/protocol.md"
    sections = re.split(r"^## ", doc_text(), flags=re.MULTILINE)
    for number, title in properties:
        section = next((s for s in sections if s.startswith(f"{number} {title}\n")), None)
        assert section is not None, f"docs/invariants.md has no section '## {number} {title}'"
        assert CITATION.search(section), f"section {number} of docs/invariants.md cites no code"


def oracle_property_names() -> list[str]:
    """Patterns of the names `PropertyFailure(name, …)` can carry in the oracle (f-strings become
    regular expressions: `honest-{role}-safety` → honest-[a-z]+-safety)."""
    patterns = []
    for node in ast.walk(ast.parse(ORACLE.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PropertyFailure"):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant):
            patterns.append(re.escape(first.value))
        elif isinstance(first, ast.JoinedStr):
            patterns.append(
                "".join(
                    re.escape(v.value) if isinstance(v, ast.Constant) else "[a-z]+"
                    for v in first.values
                )
            )
    return sorted(set(patterns))


@pytest.mark.parametrize("pattern", oracle_property_names())
def test_every_engine_property_is_cited(pattern):
    assert re.search(f"`{pattern}`", doc_text()), (
        f"the engine property {pattern!r} ({ORACLE.relative_to(ROOT)}) is not in docs/invariants.md"
    )


def required_citations() -> list[str]:
    """`file::Class.invariant_…` of every stateful machine, `file::test_…` of every exploit test."""
    required = []
    for path in sorted(ROOT.glob("tests/stateful/test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ClassDef):
                required += [
                    f"{rel}::{node.name}.{f.name}"
                    for f in node.body
                    if isinstance(f, ast.FunctionDef) and f.name.startswith("invariant_")
                ]
    for path in sorted(ROOT.glob("tests/unit/exploits/test_*.py")):
        rel = path.relative_to(ROOT).as_posix()
        required += [
            f"{rel}::{node.name}"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
        ]
    return required


def test_every_invariant_and_exploit_test_is_cited():
    cited = {f"{path}::{name}" for path, name in citations()}
    missing = [c for c in required_citations() if c not in cited]
    assert not missing, "not cited in docs/invariants.md:\n" + "\n".join(missing)
