"""Delivery of results: failures are reported, not silent (issue 12, items 4, 5, 6, 14, 15).

Real components: a mosquitto broker (with a password file where a login is tested), a local
HTTP server, ``/dev/full`` as a disk that is full.
"""

import http.server
import json
import logging
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgecnn.cli import cli
from edgecnn.core.errors import BadInputError
from edgecnn.device.io import spoolsink
from edgecnn.device.io.netsinks import open_network_sink
from edgecnn.device.io.sinks import Buffered, Sink, open_sink
from edgecnn.device.io.spool import Spool
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.device.test_sinks import TOPIC, Subscriber, results, wait_for
from tests.mosquitto_fixture import (
    Broker,
    broker,  # noqa: F401 - a pytest fixture
    free_port,
    mosquitto_binary,
)
from tests.testkit import FIXTURES

MODEL = str(FIXTURES / "digits-lenet5-int8.tflite")
DEV_FULL = Path("/dev/full")


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    """Short retries and a short final drain: a dead endpoint costs a fraction of a second."""
    monkeypatch.setattr(spoolsink, "BACKOFF_FIRST_S", 0.02)
    monkeypatch.setattr(spoolsink, "BACKOFF_MAX_S", 0.2)
    monkeypatch.setattr(spoolsink, "DRAIN_TIMEOUT_S", 0.3)


def frames(tmp_path, n):
    """A replay file of ``n`` 8x8 digit-like frames."""
    path = tmp_path / f"frames{n}.npz"
    np.savez(path, x=np.random.default_rng(0).uniform(0, 16, (n, 8, 8, 1)).astype(np.float32))
    return path


def run_quietly(tmp_path, sinks, n=12, lines=None):
    """``run`` on ``n`` frames at full speed; log lines go to ``lines`` when given."""
    return run(
        MODEL,
        source=f"replay:{frames(tmp_path, n)}",
        sinks=sinks,
        options=RunOptions(rate_hz=0),
        log=(lines.append if lines is not None else lambda _line: None),
    )


# --- item 4: network delivery failures are reported -------------------------------------


def test_an_unreachable_broker_leaves_results_counted_as_undelivered(tmp_path):
    spool = tmp_path / "spool"
    lines: list[str] = []
    uri = f"mqtt://127.0.0.1:{free_port()}/{TOPIC}?spool={spool}"
    summary = run_quietly(tmp_path, [uri], n=12, lines=lines)
    assert summary.undelivered == 12 and summary.sink_drops == 0
    assert summary.failure is None  # an outage: the results wait in the spool, exit 0
    assert len(Spool(spool)) == 12
    said = "\n".join(lines)
    assert "12 results not delivered" in said and str(spool) in said, said
    assert "undelivered 12" in summary.text()


class PasswordBroker(Broker):
    """mosquitto that accepts only alice/right (a real password file)."""

    def __init__(self, binary, workdir):
        super().__init__(binary, workdir)
        passwords = workdir / "passwords"
        subprocess.run(
            [
                str(Path(binary).parents[1] / "bin" / "mosquitto_passwd"),
                "-c",
                "-b",
                str(passwords),
                "alice",
                "right",
            ],
            check=True,
            capture_output=True,
        )
        text = self.conf.read_text().replace("allow_anonymous true", "allow_anonymous false")
        self.conf.write_text(text + f"password_file {passwords}\n")


def test_a_refused_login_is_a_configuration_error_with_the_password_hidden(tmp_path):
    server = PasswordBroker(mosquitto_binary(), tmp_path)
    server.start()
    try:
        uri = f"mqtt://alice:wrong-secret@127.0.0.1:{server.port}/{TOPIC}?spool={tmp_path / 's'}"
        with pytest.raises(BadInputError) as info:
            run_quietly(tmp_path, [uri], n=5)
    finally:
        server.stop()
    message = str(info.value)
    assert "refused" in message and "Not authorized" in message, message
    assert "alice:***@" in message and "wrong-secret" not in message
    # The run stops at the refusal; what it produced waits for a run with the right password.
    assert 1 <= len(Spool(tmp_path / "s")) <= 5


def test_the_right_login_delivers(tmp_path):
    server = PasswordBroker(mosquitto_binary(), tmp_path)
    server.start()
    try:
        uri = f"mqtt://alice:right@127.0.0.1:{server.port}/{TOPIC}?spool={tmp_path / 's'}"
        summary = run_quietly(tmp_path, [uri], n=5)
    finally:
        server.stop()
    assert summary.undelivered == 0 and summary.failure is None


class Refusing:
    """An HTTP server answering ``status`` to the windows in ``refuse``, 200 to the others."""

    def __init__(self, refuse, status=400):
        self.bodies, self.requests = [], 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                window = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["window"]
                outer.requests += 1
                self.send_response(status if window in refuse else 200)
                self.end_headers()
                if window not in refuse:
                    outer.bodies.append(window)

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ingest"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_http_4xx_gives_that_result_up_and_counts_it(tmp_path, caplog):
    server = Refusing(refuse={2, 4}, status=422)
    try:
        sink = open_network_sink(f"{server.url}?spool={tmp_path}", drain_timeout=10)
        for record in results(1, 6):
            sink.write(record)
        sink.close()
    finally:
        server.stop()
    assert server.bodies == [1, 3, 5, 6] and server.requests == 6  # each refused one once
    assert sink.rejected == 2 and sink.undelivered == 0
    assert "422" in caplog.text and "given up" in caplog.text


def test_http_5xx_is_still_retried(tmp_path):
    server = Refusing(refuse={1}, status=503)
    try:
        sink = open_network_sink(f"{server.url}?spool={tmp_path}", drain_timeout=0.5)
        sink.write({"window": 1})
        sink.close()
    finally:
        server.stop()
    assert server.requests >= 2 and sink.rejected == 0 and sink.undelivered == 1


# --- item 5: sink write errors are surfaced ---------------------------------------------


class Failing(Sink):
    """Fails the writes whose window is in ``bad`` (a stand-in for a GPIO or pipe error)."""

    def __init__(self, bad):
        self.bad, self.written = bad, []

    def write(self, result):
        if result["window"] in self.bad:
            raise OSError(5, "Input/output error")
        self.written.append(result["window"])


def test_buffered_counts_write_errors_and_keeps_the_last_one():
    sink = Buffered(Failing(bad={2, 3}), name="gpio:17=walk")
    for record in results(1, 5):
        sink.write(record)
    sink.close(timeout=5)
    assert (sink.written, sink.errors) == (3, 2)
    assert "Input/output error" in sink.last_error


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_sink_that_fails_every_write_fails_the_run(tmp_path):
    lines: list[str] = []
    summary = run_quietly(tmp_path, ["jsonl:/dev/full"], n=6, lines=lines)
    assert summary.sink_errors >= 6  # every write (and the final flush) failed
    assert "jsonl:/dev/full" in summary.failure and "No space left" in summary.failure
    assert "sink errors" in summary.text()
    metrics: list[str] = []
    run(
        MODEL,
        source=f"replay:{frames(tmp_path, 400)}",
        sinks=["jsonl:/dev/full"],
        options=RunOptions(rate_hz=0, metrics_every=0.001),
        log=metrics.append,
    )
    assert any("sink errors" in line and "sink errors 0" not in line for line in metrics)


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_cli_a_sink_that_fails_every_write_exits_1_with_one_line(tmp_path):
    replay = frames(tmp_path, 6)
    out = CliRunner().invoke(
        cli, ["run", MODEL, "--source", f"replay:{replay}", "--sink", "jsonl:/dev/full"]
    )
    assert out.exit_code == 1, out.output
    assert isinstance(out.exception, SystemExit), out.exception  # an error line, no traceback
    assert "jsonl:/dev/full" in out.output and "No space left" in out.output
    assert "windows in" in out.output and "sink errors" in out.output  # the summary first


# --- item 14: one sink's failure does not cost another sink its data ---------------------


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
def test_a_full_disk_sink_does_not_cost_the_broker_its_results(broker, tmp_path):  # noqa: F811
    subscriber = Subscriber(broker.port)
    replay = frames(tmp_path, 15)
    mqtt_uri = f"mqtt://127.0.0.1:{broker.port}/{TOPIC}?spool={tmp_path / 'spool'}"
    try:
        out = CliRunner().invoke(
            cli,
            [
                "run",
                MODEL,
                "--source",
                f"replay:{replay}",
                "--rate",
                "0",
                "--sink",
                "jsonl:/dev/full",
                "--sink",
                mqtt_uri,
            ],
        )
        wait_for(lambda: subscriber.has(15), timeout=10, what="every window at the broker")
    finally:
        subscriber.close()
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit), out.output
    assert "jsonl:/dev/full" in out.output
    assert subscriber.in_order_once() == list(range(1, 16))
    assert len(Spool(tmp_path / "spool")) == 0


class RaisesOnClose(Sink):
    def write(self, result):
        pass

    def close(self):
        raise OSError(28, "No space left on device")


def test_closing_a_buffered_sink_never_raises():
    sink = Buffered(RaisesOnClose(), name="csv:out.csv")
    sink.write({"window": 1})
    sink.close(timeout=5)
    assert sink.errors == 1 and "No space left" in sink.last_error


# --- item 15: under load, every result reaches the durable spool -------------------------


def test_at_full_speed_every_result_reaches_the_spool(tmp_path):
    spool = tmp_path / "spool"
    uri = f"mqtt://127.0.0.1:{free_port()}/{TOPIC}?spool={spool}"  # nobody listens
    summary = run_quietly(tmp_path, [uri], n=2500)
    assert summary.windows == 2500
    assert summary.sink_drops == 0 and summary.undelivered == 2500
    assert len(Spool(spool)) == 2500


def test_spool_append_many_is_one_ordered_commit_within_the_bound(tmp_path):
    spool = Spool(tmp_path, max_records=4)
    spool.append_many(results(1, 3))
    spool.append_many(results(4, 6))
    assert len(spool) == 4 and spool.dropped == 2
    assert [r["window"] for _, r in spool.peek_many(10)] == [3, 4, 5, 6]
    spool.close()


def test_a_live_source_still_drops_with_a_count_when_a_sink_cannot_keep_up():
    release = threading.Event()

    class Slow(Sink):
        def write(self, result):
            release.wait(timeout=5)

    sink = Buffered(Slow(), size=2, name="slow")
    for record in results(1, 20):
        sink.write(record)
    release.set()
    sink.close(timeout=5)
    assert sink.drops >= 17 and sink.written + sink.drops == 20


# --- item 6 (sinks): credentials never appear in messages -------------------------------


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("mqtt://bob:s3cr3t@host:1883/t", "mqtt://bob:***@host:1883/t"),
        ("mqtt://host/t?username=bob&password=s3cr3t", "mqtt://host/t?username=bob&password=***"),
        (
            "https://bob:s3cr3t@example.org/in?token=s3cr3t&x=1",
            "https://bob:***@example.org/in?token=***&x=1",
        ),
        ("mqtt://host:1883/t", "mqtt://host:1883/t"),
        (
            "http://h/in?pwd=a&jwt=b&credentials=c&session_id=d&cookie=e&device=f",
            "http://h/in?pwd=***&jwt=***&credentials=***&session_id=***&cookie=***&device=f",
        ),
        ("jsonl:/tmp/out.jsonl", "jsonl:/tmp/out.jsonl"),
    ],
)
def test_redact_uri(uri, shown):
    from edgecnn.device.io.base import redact_uri

    assert redact_uri(uri) == shown


def test_sink_errors_never_echo_the_password(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(BadInputError) as info:
        open_sink("mqtt://bob:s3cr3t@/no-host")
    assert "s3cr3t" not in str(info.value) and "bob:***@" in str(info.value)
    with pytest.raises(BadInputError) as info:
        open_sink("ftp://bob:s3cr3t@host/x")
    assert "s3cr3t" not in str(info.value)
    lines: list[str] = []
    uri = f"mqtt://bob:s3cr3t@127.0.0.1:{free_port()}/{TOPIC}?spool={tmp_path / 's'}"
    run_quietly(tmp_path, [uri], n=3, lines=lines)
    said = "\n".join(lines) + caplog.text
    assert "bob:***@" in said and "s3cr3t" not in said, said
