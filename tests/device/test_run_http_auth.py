"""An ``http(s)://user@host`` sink logs in with HTTP basic auth; the password may come from
``EDGECNN_HTTP_PASSWORD`` (where ``edgecnn service install`` puts it), never from the unit."""

import base64
import http.server
import threading

import numpy as np

from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.testkit import FIXTURES


class Recording:
    """A local HTTP server that keeps each POST's Authorization header."""

    def __init__(self):
        self.auth = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.auth.append(self.headers.get("Authorization"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_http_sink_logs_in_with_the_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGECNN_HTTP_PASSWORD", "pa:ss")
    replay = tmp_path / "x.npz"
    np.savez(replay, x=np.zeros((2, 8, 8, 1), np.float32))
    server = Recording()
    try:
        uri = f"http://pi@127.0.0.1:{server.port}/in?spool={tmp_path / 'spool'}"
        model = str(FIXTURES / "digits-lenet5-int8.tflite")
        summary = run(model, source=f"replay:{replay}", sinks=[uri],
                      options=RunOptions(rate_hz=0), log=lambda _line: None)  # fmt: skip
    finally:
        server.stop()
    assert summary.undelivered == 0
    assert server.auth == ["Basic " + base64.b64encode(b"pi:pa:ss").decode()] * 2
