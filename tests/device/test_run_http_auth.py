"""An ``http(s)://user@host`` sink logs in with HTTP basic auth; the password may come from
``EDGECNN_HTTP_PASSWORD`` (where ``edgecnn service install`` puts it), never from the unit."""

import base64

import numpy as np

from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.device.test_http_delivery import Server
from tests.testkit import FIXTURES


def test_the_http_sink_logs_in_with_the_password_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGECNN_HTTP_PASSWORD", "pa:ss")
    replay = tmp_path / "x.npz"
    np.savez(replay, x=np.zeros((2, 8, 8, 1), np.float32))
    server = Server()
    try:
        uri = f"http://pi@127.0.0.1:{server.port}/in?spool={tmp_path / 'spool'}"
        model = str(FIXTURES / "digits-lenet5-int8.tflite")
        summary = run(model, source=f"replay:{replay}", sinks=[uri],
                      options=RunOptions(rate_hz=0), log=lambda _line: None)  # fmt: skip
    finally:
        server.stop()
    assert summary.undelivered == 0
    assert server.auth == ["Basic " + base64.b64encode(b"pi:pa:ss").decode()] * 2
