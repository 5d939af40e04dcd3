"""Runs in one kernel share the display's layouts and styles, as a front end receives them.

The test plays the front end: it keeps the models the kernel opened (and closed) on IOPub,
and checks that every model a run's display refers to is open there, so the display can
be drawn, while a second run opens only its own four widgets.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.notebook, pytest.mark.timeout(120)]

SETUP = """
from pipeloom import TaskDef
from pipeloom_nb import Loom
loom = Loom({db!r}, workers=2)
def work(task, q):
    pass
"""
RUN = "loom.run([TaskDef(i, f't{i}') for i in range(20)], work, progress='widgets')"
OWN = {"HTMLModel": 1, "ButtonModel": 1, "HBoxModel": 1, "VBoxModel": 1}
"""A display's own widgets: the view, Stop, two boxes."""
REF = "IPY_MODEL_"


class FrontEnd:
    """The models a front end holds: opened by `comm_open`, dropped by `comm_close`."""

    def __init__(self) -> None:
        self.models: dict[str, dict] = {}

    def run(self, kc, code: str) -> list[dict]:
        """Run a cell; the states of the models it opened, in order."""
        opened: list[dict] = []

        def on_msg(msg: dict) -> None:
            content = msg["content"]
            if msg["msg_type"] == "comm_open":
                state = content["data"]["state"]
                self.models[content["comm_id"]] = state
                opened.append(state)
            elif msg["msg_type"] == "comm_close":
                self.models.pop(content["comm_id"], None)

        reply = kc.execute_interactive(code, timeout=60, output_hook=on_msg)
        assert reply["content"]["status"] == "ok", reply["content"]
        return opened

    def missing(self, state: dict) -> set[str]:
        """Models `state` refers to, directly or through its children, that are not open."""
        missing: set[str] = set()
        for ref in _refs(state):
            model = self.models.get(ref)
            missing |= {ref} if model is None else self.missing(model)
        return missing


def _refs(state: dict) -> list[str]:
    values = [
        v for value in state.values() for v in (value if isinstance(value, list) else [value])
    ]
    return [v.removeprefix(REF) for v in values if isinstance(v, str) and v.startswith(REF)]


def _box(opened: list[dict]) -> dict:
    return next(s for s in reversed(opened) if s["_model_name"] == "VBoxModel")


def _kinds(opened: list[dict]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for state in opened:
        kinds[state["_model_name"]] = kinds.get(state["_model_name"], 0) + 1
    return kinds


def test_later_runs_open_only_their_own_widgets_and_refer_only_to_open_models(kernel, tmp_path):
    front = FrontEnd()
    front.run(kernel, SETUP.format(db=str(tmp_path / "shared.db")))
    first = front.run(kernel, RUN)
    assert len(first) == 9 and not front.missing(_box(first))
    second = front.run(kernel, RUN)
    assert _kinds(second) == OWN and not front.missing(_box(second))
    assert front.missing(_box(first)) == set()  # the first run's display is still drawn


def test_a_run_after_closing_every_widget_opens_its_layouts_again(kernel, tmp_path):
    front = FrontEnd()
    front.run(kernel, SETUP.format(db=str(tmp_path / "closed.db")))
    front.run(kernel, RUN)
    front.run(kernel, "import ipywidgets; ipywidgets.Widget.close_all()")
    assert front.models == {}
    again = front.run(kernel, RUN)
    assert len(again) == 9 and not front.missing(_box(again))
