"""docs/api.md is generated from the docstrings, is current, and documents each name itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def render() -> str:
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.render()


def test_api_md_is_current():
    assert (DOCS / "api.md").read_text() == render(), "run: python docs/gen_api.py"


def test_no_name_shows_the_docstring_of_its_type():
    text = render()
    for borrowed in (
        "The base class of the class hierarchy",
        "Represent a PEP 604 union type",
        "str(object='') -> str",
        "Create a new string object",
    ):
        assert borrowed not in text
    for name, doc in [("SENTINEL", "stand-alone writer"), ("Msg", "built-in task messages")]:
        assert f"### `{name}`\n\n{doc}" in text or doc in text.split(f"### `{name}`")[1][:200]
    assert "private in-memory database" in text.split("### `MEMORY`")[1][:200]
