"""The messages' faster `__init__`: still frozen dataclasses in every way a user can see."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from pipeloom import MsgTaskFinished, MsgTaskProgress, MsgTaskStarted
from pipeloom.core.slots_init import direct_init


@pytest.mark.parametrize(
    "msg",
    [
        MsgTaskStarted(1, "one", "t0"),
        MsgTaskProgress("a", 2, 4),
        MsgTaskProgress("a", 2, 4, "half"),
        MsgTaskFinished(1, "error", "t1", result=42, traceback="tb"),
    ],
)
def test_a_message_is_still_a_frozen_dataclass(msg):
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.task_id = 2
    assert pickle.loads(pickle.dumps(msg)) == msg
    assert dataclasses.replace(msg) == msg and hash(dataclasses.replace(msg)) == hash(msg)
    assert type(msg)(**dataclasses.asdict(msg)) == msg


def test_defaults_signature_and_errors_are_the_dataclasses():
    assert MsgTaskProgress(1, 2, 3).message == ""
    assert MsgTaskFinished(1, "done", "t").traceback is None
    params = inspect.signature(MsgTaskProgress).parameters
    assert list(params) == ["task_id", "step", "total", "message"]
    assert params["message"].default == ""
    with pytest.raises(TypeError, match=r"MsgTaskProgress\.__init__"):
        MsgTaskProgress(1)
    with pytest.raises(TypeError, match="unexpected keyword"):
        MsgTaskProgress(1, 2, 3, colour="red")


def test_a_subclass_gets_its_own_fields():
    @dataclasses.dataclass(frozen=True, slots=True)
    class Tagged(MsgTaskProgress):
        tag: str = ""

    m = Tagged(1, 2, 3, "m", tag="x")
    assert (m.task_id, m.step, m.tag) == (1, 2, "x")


def test_a_field_with_a_factory_is_refused():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithList:
        items: list = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="only plain fields"):
        direct_init(WithList)
