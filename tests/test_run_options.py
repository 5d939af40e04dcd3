"""RunOptions: one run's settings, built once, checked once, replaced per call."""

from __future__ import annotations

import math

import pytest

from pipeloom import ConfigError
from pipeloom.run.options import DEFAULTS, UNSET, RunOptions, run_options
from pipeloom_nb import Loom


def test_unset_keeps_the_base_and_none_is_a_value():
    base = run_options(workers=3, timeout=5, rate=2.0)
    kept = run_options(base, workers=UNSET, timeout=UNSET, rate=UNSET)
    assert (kept.workers, kept.policy.timeout, kept.rate) == (3, 5.0, 2.0)
    cleared = run_options(base, timeout=None, rate=None)
    assert (cleared.policy.timeout, cleared.rate) == (None, None)
    assert repr(UNSET) == "UNSET" and not UNSET


def test_the_retry_arguments_go_into_the_policy_checked():
    options = run_options(retries=2, retry_backoff=1, timeout=math.inf, max_retry_after=10)
    policy = options.policy
    assert (policy.retries, policy.backoff, policy.timeout, policy.max_retry_after) == (
        2,
        1.0,
        None,
        10.0,
    )
    assert run_options(rate=math.inf).rate is None


def test_checks_are_the_engines_with_the_same_messages():
    with pytest.raises(ConfigError, match="rate must be a number > 0 or None, not nan"):
        run_options(rate=math.nan)
    with pytest.raises(ConfigError, match="retries must be >= 0"):
        run_options(retries=-1)
    with pytest.raises(ConfigError, match="resume=True needs store_task_status=True"):
        run_options(resume=True, store_task_status=False)
    with pytest.raises(TypeError, match="unknown run options: retry"):
        run_options(retry=2)


def test_options_are_frozen_and_the_defaults_are_the_engines():
    assert isinstance(DEFAULTS, RunOptions) and DEFAULTS.policy.retries == 0
    with pytest.raises(AttributeError):
        DEFAULTS.workers = 2  # type: ignore[misc]


def test_a_loom_keeps_its_options_and_a_call_does_not_change_them(tmp_path):
    loom = Loom(tmp_path / "x.db", workers=2, rate=math.inf, timeout=5, progress=False)
    assert (loom.workers, loom.rate, loom.timeout) == (2, math.inf, 5)
    before = loom.options
    result = loom.run([{"task_id": 1}], lambda task, q: None, workers=1, timeout=1, retries=1)
    assert result.summary.ok and result.summary.workers == 1
    assert loom.options is before
    loom.workers = 3
    assert loom.options.workers == 3 and loom.options.policy.timeout == 5
