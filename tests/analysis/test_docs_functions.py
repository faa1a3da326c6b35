"""docs/functions/<function>.md name the tests that cover each function; this keeps the lists true.

In the "## Tests" section of every page:
- each backticked `tests/….py` path exists;
- each backticked `test_…` name is a test function of the last path named before it;
- a path followed by "(N)" is that file's complete list: N names follow it, and they are exactly
  the file's test functions;
- the function's own unit file, tests/unit/<area>/test_<function in snake_case>.py, is listed
  that way (complete, with its count).
And every file under tests/unit/ is listed on some page. Reading files only: no chain needed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p for p in (ROOT / "docs" / "functions").glob("*.md") if p.name != "README.md")
SPAN = re.compile(r"`([^`]+)`")
TEST_PATH = re.compile(r"tests/[\w/]+\.py")
TEST_NAME = re.compile(r"test_\w+")
COUNT = re.compile(r" \((\d+)\)")


def read_tests_section(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    assert "\n## Tests\n" in text, f"{page.name} has no '## Tests' section"
    return text.split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]


def collected_tests(path: Path) -> list[str]:
    """Names pytest collects as tests: module-level `test*` functions and methods of classes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names += [
                f.name
                for f in node.body
                if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
            ]
    return names


def listings(section: str) -> list[tuple[str, int | None, list[str]]]:
    """(path, count given or None, names listed after it) for each backticked path, in order."""
    found: list[tuple[str, int | None, list[str]]] = []
    for match in SPAN.finditer(section):
        span = match.group(1)
        if TEST_PATH.fullmatch(span):
            count = COUNT.match(section, match.end())
            found.append((span, int(count.group(1)) if count else None, []))
        elif TEST_NAME.fullmatch(span):
            assert found, f"test name {span} comes before any test file"
            found[-1][2].append(span)
    return found


def own_unit_file(page: Path) -> Path | None:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", page.stem).lower()
    matches = sorted(ROOT.glob(f"tests/unit/*/test_{snake}.py"))
    assert len(matches) <= 1, f"several unit files for {page.stem}: {matches}"
    return matches[0] if matches else None


def complete_listing(path: str) -> str:
    """The line to paste when a complete listing is stale."""
    names = collected_tests(ROOT / path)
    return f"`{path}` ({len(names)}): " + ", ".join(f"`{n}`" for n in names)


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_listed_tests_exist(page):
    for path, _, names in listings(read_tests_section(page)):
        assert (ROOT / path).is_file(), f"{page.name} lists {path}, which does not exist"
        defined = set(collected_tests(ROOT / path))
        missing = [n for n in names if n not in defined]
        assert not missing, f"{page.name}: not test functions of {path}: {', '.join(missing)}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_counted_listings_are_complete(page):
    for path, count, names in listings(read_tests_section(page)):
        if count is None or not (ROOT / path).is_file():
            continue
        defined = collected_tests(ROOT / path)
        assert count == len(names) and set(names) == set(defined), (
            f"{page.name}: the listing of {path} is not its {len(defined)} tests; write\n"
            f"{complete_listing(path)}"
        )


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_own_unit_file_is_listed_completely(page):
    own = own_unit_file(page)
    if own is None:
        return
    path = own.relative_to(ROOT).as_posix()
    counted = [
        p for p, count, _ in listings(read_tests_section(page)) if p == path and count is not None
    ]
    assert counted, (
        f"{page.name} does not list its unit file completely; write\n{complete_listing(path)}"
    )


def test_every_unit_test_file_is_listed():
    listed = {path for page in PAGES for path, _, _ in listings(read_tests_section(page))}
    unit_files = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("tests/unit/*/test_*.py")}
    assert not unit_files - listed, f"on no docs/functions page: {sorted(unit_files - listed)}"
