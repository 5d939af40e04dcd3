"""docs/architecture.md's tree lists every module, one a line, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("pipeloom", "pipeloom_nb")


def listed_paths() -> set[str]:
    """The paths the tree in docs/architecture.md names, folders ending with `/`."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("## The tree is the architecture", 1)[1].split("```")[1]
    paths: set[str] = set()
    stack: list[str] = []
    for line in block.splitlines():
        match = re.match(r"( *)(\S+)", line)
        if not match:
            continue
        depth, name = len(match.group(1)) // 2, match.group(2)
        stack[depth:] = [name]
        paths.add("".join(stack))
    return paths


def module_paths() -> set[str]:
    """Every module of both packages; a subpackage's `__init__.py` is its face, not listed."""
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if path.name != "__init__.py" or rel.count("/") == 1:
                found.add(rel)
    return found


def test_the_tree_lists_every_module_and_nothing_else():
    listed = listed_paths()
    modules = module_paths()
    assert modules - listed == set(), "modules missing from docs/architecture.md's tree"
    files = {path for path in listed if not path.endswith("/")}
    assert files - modules == set(), "docs/architecture.md lists modules that do not exist"
    folders = {path for path in listed if path.endswith("/")}
    assert all((ROOT / folder).is_dir() for folder in folders), folders
