"""Was this exception raised reading or decoding an HTTP response's body? Then retry it.

A body cut short (a connection dropped mid-answer, status 200 already sent) or garbled
fails as a `json.JSONDecodeError`, a `ValueError`, which the default retry policy counts as
a data error. It is a transport failure all the same. It is recognised whichever client
raised it:
- raised inside an HTTP client's code (httpx's or requests' `response.json()`, urllib3,
  `http.client`), or by `json.load(response)` reading a response object;
- a JSON document that ends before its value does (`json.loads(response.read())` of a
  truncated body): what good data parsed by the caller's own code never does.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any

__all__ = ["is_body_error"]

_CLIENTS = ("httpx", "requests", "urllib3", "http.client", "aiohttp", "urllib.response")
"""Modules whose frames in a traceback mean: raised while reading a response."""


def is_body_error(exc: BaseException) -> bool:
    """True for a JSON decoding error of a response body (cut short, or read from a client)."""
    if not isinstance(exc, json.JSONDecodeError):
        return False
    return _cut_short(exc) or any(_in_client(frame) for frame in _frames(exc.__traceback__))


def _cut_short(exc: json.JSONDecodeError) -> bool:
    """The document ended before its value did: a truncated body."""
    doc = exc.doc if isinstance(exc.doc, str) else ""
    return exc.pos >= len(doc.rstrip()) or exc.msg.startswith("Unterminated string")


def _frames(tb: TracebackType | None) -> list[Any]:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _in_client(frame: Any) -> bool:
    module = frame.f_globals.get("__name__", "")
    if module.startswith(_CLIENTS):
        return True
    if module == "json" and frame.f_code.co_name == "load":
        fp = frame.f_locals.get("fp")
        return hasattr(fp, "status") and hasattr(fp, "headers")
    return False
