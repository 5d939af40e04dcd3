"""What the default retry policy makes of a JSON error: a body cut short or read from a
response is retried; complete text the caller's own code parses is not."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeloom.execution.retry import is_transient


def raised(fn):
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("nothing raised")


@pytest.mark.parametrize("text", ['{"data": [1, 2', '{"a": "ab', '[{"id": 1}, {"id"', "{"])
def test_a_document_that_ends_too_soon_is_retried(text):
    assert is_transient(raised(lambda: json.loads(text)))


@pytest.mark.parametrize("text", ['{"a": 1}x', "<html>502</html>", "nope", '{"a": 1,}'])
def test_complete_text_that_is_not_json_is_a_data_error(text):
    assert not is_transient(raised(lambda: json.loads(text)))


def test_a_value_error_of_the_callers_own_is_not_retried():
    assert not is_transient(raised(lambda: int("x")))


class _Garbled(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        body = b"<html>502 Bad Gateway</html>"  # complete, but not JSON, on status 200
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_garbled_json_read_from_a_response_is_retried():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Garbled)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:

        def fetch():
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)

        assert is_transient(raised(fetch))
    finally:
        server.shutdown()
        server.server_close()
