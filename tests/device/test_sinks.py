"""Sinks: backpressure, the durable spool, MQTT against a real broker, HTTP, GPIO."""

import http.server
import json
import threading
import time

import numpy as np
import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.device.io import spoolsink
from edgecnn.device.io.netsinks import open_network_sink
from edgecnn.device.io.sinks import SCHEMES, Buffered, Sink, open_sink
from edgecnn.device.io.spool import Spool
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.mosquitto_fixture import broker  # noqa: F401 - a pytest fixture
from tests.testkit import FIXTURES

TOPIC = "edgecnn/test"


def wait_for(condition, timeout=20.0, what="condition"):
    """Polls ``condition`` until true; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def results(first, last):
    return [{"window": i, "label": "x"} for i in range(first, last + 1)]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    """Retries quicker than on a device, so the outage tests stay fast."""
    monkeypatch.setattr(spoolsink, "BACKOFF_FIRST_S", 0.02)
    monkeypatch.setattr(spoolsink, "BACKOFF_MAX_S", 0.2)


# --- spool -------------------------------------------------------------------------------


def test_spool_keeps_order_and_survives_reopen(tmp_path):
    spool = Spool(tmp_path)
    for record in results(1, 5):
        spool.append(record)
    record_id, first = spool.peek()
    assert first["window"] == 1
    spool.remove(record_id)
    spool.close()
    reopened = Spool(tmp_path)
    seen = []
    while (head := reopened.peek()) is not None:
        seen.append(head[1]["window"])
        reopened.remove(head[0])
    assert seen == [2, 3, 4, 5] and len(reopened) == 0
    reopened.close()


def test_spool_bound_drops_the_oldest_and_counts_persistently(tmp_path):
    spool = Spool(tmp_path, max_records=3)
    for record in results(1, 5):
        spool.append(record)
    assert len(spool) == 3 and spool.dropped == 2
    assert spool.peek()[1]["window"] == 3
    spool.close()
    assert Spool(tmp_path, max_records=3).dropped == 2


# --- backpressure ------------------------------------------------------------------------


class Stuck(Sink):
    """A sink whose write blocks until released: a stand-in for a slow network."""

    def __init__(self):
        self.release = threading.Event()
        self.written = []

    def write(self, result):
        self.release.wait(timeout=10)
        self.written.append(result["window"])


def test_a_slow_sink_never_blocks_the_producer():
    stuck = Stuck()
    sink = Buffered(stuck, size=2)
    started = time.perf_counter()
    for record in results(1, 50):
        sink.write(record)
    assert time.perf_counter() - started < 0.5
    assert sink.drops >= 47  # 2 queued, at most 1 taken by the worker: the rest dropped
    stuck.release.set()
    sink.close(timeout=5)
    assert len(stuck.written) + sink.drops == 50
    assert stuck.written == sorted(stuck.written)


def test_unknown_sink_lists_every_scheme():
    with pytest.raises(BadInputError) as info:
        open_sink("ftp://x")
    for scheme in ("stdout", "jsonl:", "csv:", "mqtt://", "http(s)://", "gpio:"):
        assert scheme in str(info.value) and scheme in SCHEMES


# --- HTTP --------------------------------------------------------------------------------


class FlakyServer:
    """Answers 503 (or hangs up) to the first ``failures`` POSTs, then 200; records bodies."""

    def __init__(self, failures, port=0):
        self.failures, self.bodies, self.requests = failures, [], 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests += 1
                if outer.requests <= outer.failures:
                    if outer.requests % 2:
                        self.send_response(503)
                        self.end_headers()
                    else:
                        self.close_connection = True  # no answer at all
                    return
                outer.bodies.append(json.loads(body)["window"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ingest"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_http_sink_retries_until_every_result_arrives_in_order(tmp_path):
    server = FlakyServer(failures=4)
    try:
        sink = open_network_sink(f"{server.url}?spool={tmp_path}", drain_timeout=20)
        for record in results(1, 10):
            sink.write(record)
        sink.close()
        assert server.bodies == list(range(1, 11))
        assert sink.failures >= 4
    finally:
        server.stop()


def test_spooled_results_are_sent_by_the_next_run(tmp_path):
    server = FlakyServer(failures=0)
    url = server.url
    server.stop()  # nobody listens: the first "run" can only spool
    down = open_network_sink(f"{url}?spool={tmp_path}", drain_timeout=0.1)
    for record in results(1, 5):
        down.write(record)
    down.close()
    assert len(Spool(tmp_path)) == 5
    # The same sink comes back (a spool serves one destination: not another port's)
    server = FlakyServer(failures=0, port=server.server.server_port)
    try:
        up = open_network_sink(f"{server.url}?spool={tmp_path}", drain_timeout=20)
        up.write({"window": 6})
        up.close()
        assert server.bodies == [1, 2, 3, 4, 5, 6]
    finally:
        server.stop()


# --- MQTT with a real broker -------------------------------------------------------------


class Subscriber:
    """A persistent-session QoS 1 subscriber: the broker keeps its messages across restarts."""

    def __init__(self, port):
        mqtt = pytest.importorskip("paho.mqtt.client")
        self.windows = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="edgecnn-test-sub", clean_session=False
        )
        self.client.on_connect = lambda c, *_: c.subscribe(TOPIC, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.windows.append(
            json.loads(msg.payload)["window"]
        )
        self.client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber did not subscribe"

    def has(self, last):
        return set(range(1, last + 1)) <= set(self.windows)

    def in_order_once(self):
        """Window numbers in first-arrival order (at-least-once delivery: repeats removed)."""
        return list(dict.fromkeys(self.windows))

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_sink_survives_a_broker_restart(broker, tmp_path):  # noqa: F811 - fixture
    subscriber = Subscriber(broker.port)
    uri = f"mqtt://127.0.0.1:{broker.port}/{TOPIC}?spool={tmp_path / 'spool'}"
    sink = open_network_sink(uri, drain_timeout=30)
    try:
        for record in results(1, 20):
            sink.write(record)
        wait_for(lambda: subscriber.has(20), what="results before the outage")
        broker.stop()
        started = time.perf_counter()
        for record in results(21, 40):
            sink.write(record)
        assert time.perf_counter() - started < 2  # spooling, not waiting for the broker
        assert len(sink.spool) == 20  # no PUBACK is possible: all of them wait on disk
        broker.start()
        for record in results(41, 60):
            sink.write(record)
        wait_for(lambda: subscriber.has(60), what="every result after the restart")
    finally:
        sink.close()
        subscriber.close()
    assert subscriber.in_order_once() == list(range(1, 61))
    assert sink.delivered >= 60


def test_run_delivers_every_window_over_mqtt(broker, tmp_path):  # noqa: F811 - fixture
    subscriber = Subscriber(broker.port)
    replay = tmp_path / "digits.npz"
    x = np.random.default_rng(0).uniform(0, 16, size=(25, 8, 8, 1)).astype(np.float32)
    np.savez(replay, x=x)
    try:
        summary = run(
            str(FIXTURES / "digits-lenet5-int8.tflite"),
            source=f"replay:{replay}",
            sinks=[f"mqtt://127.0.0.1:{broker.port}/{TOPIC}?spool={tmp_path / 'spool'}"],
            options=RunOptions(rate_hz=0),
            log=lambda _line: None,
        )
        wait_for(lambda: subscriber.has(25), what="every window")
    finally:
        subscriber.close()
    assert summary.windows == 25 and summary.sink_drops == 0
    assert subscriber.in_order_once() == list(range(1, 26))


# --- GPIO --------------------------------------------------------------------------------


def test_gpio_led_follows_the_label():
    gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed")
    from gpiozero.pins.mock import MockFactory

    previous = gpiozero.Device.pin_factory
    gpiozero.Device.pin_factory = MockFactory()
    try:
        sink = open_sink("gpio:17=walk")
        led = sink.inner.led
        states = []
        for label in ("walk", "run", "walk"):
            sink.inner.write({"label": label})  # straight to the LED: no worker timing here
            states.append(led.is_lit)
        assert states == [True, False, True]
        sink.close()
        assert led.closed
    finally:
        gpiozero.Device.pin_factory = previous


def test_gpio_off_a_pi_is_one_line_not_a_traceback(monkeypatch):
    """Before: gpiozero's BadPinFactory escaped as a 69-line traceback."""
    gpiozero = pytest.importorskip("gpiozero", reason="gpiozero is not installed")
    monkeypatch.setattr(gpiozero.Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "edgecnn-no-such-factory")  # as off a Pi
    with pytest.raises(BadInputError, match=r"^gpio:17 cannot drive an LED here: .*Raspberry Pi"):
        open_sink("gpio:17=walk")
