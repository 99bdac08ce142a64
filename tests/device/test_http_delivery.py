"""HTTP delivery that cannot be fooled (issue 26, items 1, 6, 7): redirects, slow servers,
stopping. Real components: local HTTP servers on 127.0.0.1 that redirect and slow down."""

import http.server
import json
import logging
import threading
import time

import pytest

from edgecnn.device.io import spoolsink
from edgecnn.device.io.netsinks import open_network_sink
from edgecnn.device.io.spool import Spool
from tests.device.test_sinks import results


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(spoolsink, "BACKOFF_FIRST_S", 0.02)
    monkeypatch.setattr(spoolsink, "BACKOFF_MAX_S", 0.1)


class Server:
    """Records (method, path, Authorization, window) per request; ``answer(path)`` gives the
    status and the Location to send (None: 200); ``delay`` seconds before each answer."""

    def __init__(self, answer=lambda path: (200, None), delay=0.0):
        self.seen = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else {}
                time.sleep(delay)
                auth = self.headers.get("Authorization")
                outer.seen.append((self.command, self.path, auth, body.get("window")))
                status, location = answer(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location.format(port=outer.port))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _any  # noqa: N815 - http.server's naming

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def auth(self):
        """The Authorization header of each request, in order."""
        return [auth for _, _, auth, _ in self.seen]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_a_redirect_to_another_origin_keeps_the_results_and_the_login(tmp_path, caplog, code):
    """Old: a 302 became a body-less GET to the other host, Authorization and all, and the
    run reported everything delivered."""
    server = Server(lambda path: (code, "http://localhost:{port}/elsewhere") if path == "/moved"
                    else (200, None))  # fmt: skip
    try:
        uri = f"http://bob:PW@127.0.0.1:{server.port}/moved?spool={tmp_path}"
        sink = open_network_sink(uri, drain_timeout=0.3)
        for record in results(1, 3):
            sink.write(record)
        sink.close()
    finally:
        server.stop()
    assert [path for _, path, _, _ in server.seen if path != "/moved"] == []
    assert sink.undelivered == 3 and sink.delivered == 0 and len(Spool(tmp_path)) == 3
    said = caplog.text + "\n".join(sink.notes())
    assert f"http://localhost:{server.port}/elsewhere" in said and "PW" not in said


def test_a_303_means_the_post_was_taken_and_is_neither_followed_nor_resent(tmp_path):
    """A 303 answers a processed POST: counting it undelivered resent it on every run."""
    server = Server(lambda path: (303, "http://localhost:{port}/receipt"))
    try:
        uri = f"http://bob:PW@127.0.0.1:{server.port}/r?spool={tmp_path}"
        sink = open_network_sink(uri, drain_timeout=2.0)
        for record in results(1, 3):
            sink.write(record)
        sink.close()
    finally:
        server.stop()
    assert [(method, path) for method, path, _, _ in server.seen] == [("POST", "/r")] * 3
    assert sink.delivered == 3 and sink.undelivered == 0 and len(Spool(tmp_path)) == 0


def test_a_same_origin_307_is_followed_as_a_post_with_its_body(tmp_path):
    server = Server(lambda path: (307, "/new") if path == "/old" else (200, None))
    try:
        uri = f"http://bob:PW@127.0.0.1:{server.port}/old?spool={tmp_path}"
        sink = open_network_sink(uri, drain_timeout=5)
        for record in results(1, 3):
            sink.write(record)
        sink.close()
    finally:
        server.stop()
    arrived = [(method, window) for method, path, auth, window in server.seen if path == "/new"]
    assert arrived == [("POST", 1), ("POST", 2), ("POST", 3)] and sink.undelivered == 0


def test_a_slow_server_makes_progress_across_runs(tmp_path, monkeypatch):
    """Old: results left the spool only once a whole batch (up to 500) was sent, so a run
    stopping mid-batch left them all to be sent again, and the next run never got further."""
    monkeypatch.setattr(spoolsink, "SEND_TIMEOUT_S", 0.5)  # how long close waits for a POST
    server = Server(delay=0.05)
    try:
        uri = f"http://127.0.0.1:{server.port}/in?spool={tmp_path}"
        first = open_network_sink(uri, drain_timeout=0.3)
        for record in results(1, 40):
            first.write(record)
        first.close()
        received = len(server.seen)
        assert 0 < received < 40 and first.undelivered in (40 - received, 41 - received)
        second = open_network_sink(uri, drain_timeout=10)
        second.close()
    finally:
        server.stop()
    windows = [window for *_, window in server.seen]
    assert sorted(set(windows)) == list(range(1, 41)) and len(windows) <= 41


def test_stopping_gives_up_a_hung_post_within_a_second(tmp_path, caplog):
    """Old: close waited for the in-flight POST (up to SEND_TIMEOUT_S) and then some."""
    caplog.set_level(logging.WARNING)
    server = Server(delay=3.0)
    try:
        sink = open_network_sink(f"http://127.0.0.1:{server.port}/in?spool={tmp_path}",
                                 drain_timeout=0.2)  # fmt: skip
        sink.write({"window": 1})
        time.sleep(0.1)  # the POST is under way
        started = time.monotonic()
        sink.close()
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < 1.0 and sink.undelivered == 1 and len(Spool(tmp_path)) == 1


def test_after_a_stop_request_close_waits_for_nothing(tmp_path):
    """A signal sets ``stopping``: close spools what is unsent at once, whatever the default
    drain_timeout (at the end of input it would drain while results get through)."""
    server = Server(delay=3.0)
    stopping = threading.Event()
    try:
        sink = open_network_sink(f"http://127.0.0.1:{server.port}/in?spool={tmp_path}",
                                 stopping=stopping)  # fmt: skip
        for record in results(1, 5):
            sink.write(record)
        stopping.set()
        started = time.monotonic()
        sink.close()
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < 1.0 and sink.undelivered == 5 and len(Spool(tmp_path)) == 5


def test_a_stop_closes_several_hung_sinks_side_by_side(tmp_path):
    """Closed one after another, each hung sink added its own grace period to the stop."""
    from edgecnn.device.io.sinks import open_sink
    from edgecnn.device.loop import close_all

    servers = [Server(delay=3.0) for _ in range(4)]
    stopping = threading.Event()
    try:
        sinks = [
            open_sink(f"http://127.0.0.1:{s.port}/in?spool={tmp_path / str(i)}", stopping=stopping)
            for i, s in enumerate(servers)
        ]
        for sink in sinks:
            sink.write({"window": 1})
        time.sleep(0.1)  # each POST under way, hung
        stopping.set()
        started = time.monotonic()
        close_all(sinks)
        took = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    assert took < 1.0, took
    assert all(len(Spool(tmp_path / str(i))) == 1 for i in range(4))
