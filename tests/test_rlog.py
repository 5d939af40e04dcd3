"""setup_logging configures logging as pipeloom 0.0.x did: Rich on the root logger."""

from __future__ import annotations

import logging

import pytest
from rich.logging import RichHandler

from pipeloom import rlog


@pytest.fixture
def clean_logging():
    """Restore the root and `pipeloom` loggers as they were."""
    root, ours = logging.getLogger(), logging.getLogger("pipeloom")
    saved = (list(root.handlers), root.level, ours.level, ours.propagate)
    yield root
    for h in list(root.handlers):
        if h not in saved[0]:
            root.removeHandler(h)
            h.close()
    root.setLevel(saved[1])
    ours.setLevel(saved[2])
    ours.propagate = saved[3]


def _rich(root: logging.Logger) -> list[RichHandler]:
    return [h for h in root.handlers if isinstance(h, RichHandler)]


@pytest.mark.parametrize(
    ("verbose", "level"),
    [(0, logging.WARNING), (1, logging.INFO), (2, logging.DEBUG), (5, logging.DEBUG)],
)
def test_a_rich_handler_on_the_shared_console_serves_the_root_logger(clean_logging, verbose, level):
    rlog.setup_logging(verbose)
    (handler,) = _rich(clean_logging)
    assert handler.console is rlog.console is rlog.get_console()
    assert clean_logging.level == level and rlog.logger.level == level
    assert logging.getLogger("pipeloom.writer").getEffectiveLevel() == level


def test_every_logger_reaches_the_console_at_the_chosen_level(clean_logging, capsys):
    rlog.setup_logging(0)
    logging.getLogger("pipeloom.writer").info("quiet-info")
    logging.getLogger("pipeloom.writer").warning("loud-warning")
    rlog.setup_logging(1)
    logging.getLogger("a_users_etl").info("user-info [not markup]")
    err = capsys.readouterr().err
    assert "loud-warning" in err and "user-info [not markup]" in err
    assert "quiet-info" not in err


def test_a_second_call_replaces_only_its_own_handlers(clean_logging, tmp_path):
    foreign = logging.NullHandler()
    clean_logging.addHandler(foreign)
    rlog.setup_logging(2, tmp_path / "a.log")
    rlog.setup_logging(1, tmp_path / "b.log")
    assert len(_rich(clean_logging)) == 1 and foreign in clean_logging.handlers
    files = [h for h in clean_logging.handlers if str(tmp_path) in getattr(h, "baseFilename", "")]
    assert [h.baseFilename for h in files] == [str(tmp_path / "b.log")]
    logging.getLogger("pipeloom.writer").info("to-the-file")
    logging.getLogger("pipeloom.writer").debug("below-the-level")
    files[0].flush()
    text = (tmp_path / "b.log").read_text(encoding="utf-8")
    assert "INFO [pipeloom.writer] to-the-file" in text and "below-the-level" not in text
