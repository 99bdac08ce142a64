"""One sink address model (issue 26, items 2, 4, 5, 10, 11): every sink URI is parsed once;
the spool is keyed by the whole destination, so results only go where they were made for.

Real components: mosquitto with a password file, a local HTTP server.
"""

import logging
import random
import subprocess
import threading
from pathlib import Path

import pytest

from edgecnn.core.errors import BadInputError
from edgecnn.device.io import spoolsink
from edgecnn.device.io.netsinks import default_spool_dir, open_network_sink
from edgecnn.device.io.sinkaddr import parse_address
from edgecnn.device.io.sinks import check_sink, open_sink
from edgecnn.device.io.spool import Spool
from tests.device.test_delivery import run_quietly
from tests.device.test_sinks import TOPIC, FlakyServer, results, wait_for
from tests.mosquitto_fixture import Broker, broker, mosquitto_binary  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def fast_network(monkeypatch, tmp_path):
    monkeypatch.setattr(spoolsink, "BACKOFF_FIRST_S", 0.02)
    monkeypatch.setattr(spoolsink, "BACKOFF_MAX_S", 0.2)
    monkeypatch.setattr(spoolsink, "DRAIN_TIMEOUT_S", 0.3)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


class LoginBroker(Broker):
    """mosquitto that accepts only ``alice`` with ``password`` (a real password file)."""

    def __init__(self, workdir, password):
        binary = mosquitto_binary()
        super().__init__(binary, workdir)
        passwords = workdir / "passwords"
        tool = str(Path(binary).parents[1] / "bin" / "mosquitto_passwd")
        subprocess.run([tool, "-c", "-b", str(passwords), "alice", password],
                       check=True, capture_output=True)  # fmt: skip
        text = self.conf.read_text().replace("allow_anonymous true", "allow_anonymous false")
        self.conf.write_text(text + f"password_file {passwords}\n")


@pytest.mark.parametrize(
    ("login", "query"),
    [
        ("alice:p%40ss%2Fw%3Ard", ""),
        ("alice:p@ss%2Fw:rd", ""),
        ("alice", "&password=p%40ss%2Fw%3Ard"),
    ],
)
def test_a_password_with_at_and_slash_logs_in_percent_encoded_or_with_a_raw_at(
    tmp_path, login, query
):
    """Old: ``%40`` was sent as is (login refused); a raw '@' split the login wrongly."""
    server = LoginBroker(tmp_path, "p@ss/w:rd")
    server.start()
    try:
        uri = f"mqtt://{login}@127.0.0.1:{server.port}/{TOPIC}?spool={tmp_path / 's'}{query}"
        summary = run_quietly(tmp_path, [uri], n=3)
    finally:
        server.stop()
    assert summary.failure is None and summary.undelivered == 0, summary.text()


def test_a_raw_slash_in_a_password_is_refused_without_showing_it():
    """Old: ``mqtt://bob:p@ss/w:rd@host/t`` went to host 'ss', the password in the name."""
    with pytest.raises(BadInputError, match="percent-encode") as info:
        open_sink("mqtt://bob:p@ss/w:rd@127.0.0.1/t")
    assert "p@ss" not in str(info.value) and "w:rd" not in str(info.value)


@pytest.mark.parametrize(
    "uri",
    ["mqtt://bob:s3cr?et@host/t", "http://bob:s3cr#et@host:80/x", "http://bob:12?et@h/",
     "http://bob:s3cr?et/x@host/", "mqtt://bob:s3cr#et/y@host/t"],
)
def test_a_raw_question_mark_or_hash_in_a_password_is_refused_without_showing_it(uri):
    """Before: 'the port is not a number' with the whole URI, password included, echoed."""
    with pytest.raises(BadInputError, match="percent-encode") as info:
        check_sink(uri)
    assert "s3cr" not in str(info.value) and "et@" not in str(info.value)


@pytest.mark.parametrize(
    "uri",
    ["http://user:pw@[::1", "http://user:pw@[::1]x/p", "mqtt://[::1]:99999/t", "http://:pw@/x"],
)
def test_a_bad_host_is_one_line_without_the_password(uri):
    """Old: ``http://user:pw@[::1`` was a traceback (ValueError: Invalid IPv6 URL)."""
    with pytest.raises(BadInputError) as info:
        check_sink(uri)
    assert ":pw" not in str(info.value) and "\n" not in str(info.value)


def test_an_ipv6_host_is_understood():
    address = parse_address("http://bob:s%3Acret@[::1]:8080/in?x=1")
    assert (address.host, address.port, address.user, address.password) == (
        "::1", 8080, "bob", "s:cret")  # fmt: skip
    assert address.request_url() == "http://[::1]:8080/in?x=1"


@pytest.mark.parametrize("topic", ["a/+/b", "a/%23", "a/#", "+"])
def test_an_mqtt_topic_with_wildcards_is_refused_before_running(topic):
    """Old: accepted; the sender thread died and the run exited 0, results undelivered."""
    with pytest.raises(BadInputError, match="wildcards"):
        check_sink(f"mqtt://127.0.0.1/{topic}")


def test_two_different_passwords_are_refused():
    """Old: ?password= won for MQTT, the login's for service install."""
    with pytest.raises(BadInputError, match="two different passwords") as info:
        check_sink("mqtt://bob:PW1@host/t?password=PW2")
    assert "PW1" not in str(info.value) and "PW2" not in str(info.value)
    assert parse_address("mqtt://bob:PW@host/t?password=PW").password == "PW"


def folder(uri):
    return default_spool_dir(parse_address(uri)).name


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("http://h/in?device=A", "http://h/in?device=B"),
        ("http://h/in?token=T1", "http://h/in?token=T2"),
        ("mqtt://h/home/kitchen", "mqtt://h/home_kitchen"),
        ("mqtt://h/a%20b", "mqtt://h/a_b"),
        ("mqtt://bob@h/t", "mqtt://eve@h/t"),
        ("http://h:8080/in", "http://h:8081/in"),
        ("http://h/in", "https://h/in"),
    ],
)
def test_different_destinations_never_share_a_spool(one, other):
    """Old: the query and user were ignored and punctuation merged: all these shared one."""
    assert folder(one) != folder(other)


def test_the_spool_folder_names_no_secret_and_ignores_the_password():
    name = folder("http://bob:hunter2@h/in?token=T0PS3CRET&x=1&spool=")
    assert "T0PS3CRET" not in name and "hunter2" not in name and name.startswith("http_h_80-")
    assert name == folder("http://bob:other@h/in?x=1&token=T0PS3CRET")  # same account, order
    assert folder("mqtt://h/t") == folder("mqtt://h:1883/t")


def test_results_spooled_for_one_query_are_never_posted_with_another(tmp_path):
    """Old: results spooled for ``?device=A`` were posted by a run with ``?device=B``."""
    server = FlakyServer(failures=0)
    url = server.url
    server.stop()
    down = open_network_sink(f"{url}?device=A", drain_timeout=0.1)
    for record in results(1, 3):
        down.write(record)
    down.close()
    server = FlakyServer(failures=0)
    try:
        other = open_network_sink(f"{server.url}?device=B", drain_timeout=5)
        other.write({"window": 9})
        other.close()
        assert server.bodies == [9]
    finally:
        server.stop()


def test_an_old_spool_folder_is_left_alone_with_one_line(tmp_path, caplog):
    old = tmp_path / "cache/edgecnn/spool/mqtt_127.0.0.1_1_home_kitchen"
    Spool(old).append({"window": 1})
    caplog.set_level(logging.WARNING)
    sink = open_network_sink("mqtt://127.0.0.1:1/home/kitchen", drain_timeout=0)
    sink.close()
    assert len(Spool(old)) == 1
    lines = [r.getMessage() for r in caplog.records if "old naming" in r.getMessage()]
    assert len(lines) == 1 and str(old) in lines[0]


def test_mqtt_delivers_to_the_topic_exactly(broker):  # noqa: F811 - fixture
    mqtt = pytest.importorskip("paho.mqtt.client")
    topics, subscribed = [], threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe("home/#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, msg: topics.append(msg.topic)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        uri = f"mqtt://127.0.0.1:{broker.port}/home/kitchen%40night"
        sink = open_network_sink(uri, drain_timeout=5)
        sink.write({"window": 1})
        sink.close()
        wait_for(lambda: topics, what="the message")
    finally:
        client.disconnect()
        client.loop_stop()
    assert topics == ["home/kitchen@night"]


def random_uri(rng):
    """A sink URI made of the pieces that break parsers, in random order and number."""
    pieces = ["mqtt://", "http://", "https://", "@", ":", "/", "?", "#", "[", "]", "%", "%4",
              "%40", "=", "&", "+", "::1", "host", "user", "pw", "99999", "1883", "é", " ",
              "\x00", "password=", "token=", "max_records=", "spool=", "${EDGECNN_X}",
              "²"]  # fmt: skip
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))


def test_a_thousand_random_sink_uris_give_one_line_or_an_address():
    rng = random.Random(26)
    for _ in range(1000):
        uri = random_uri(rng)
        try:
            check_sink(uri)
            if "://" in uri:
                parse_address(uri).identity()
        except BadInputError as exc:
            assert "\n" not in str(exc), uri


def test_a_spool_folder_given_by_hand_serves_one_destination_only(tmp_path):
    """Before: ``?device=A&spool=D`` and ``?device=B&spool=D`` delivered each other's results."""
    first = open_network_sink(f"http://127.0.0.1:9/r?device=A&spool={tmp_path}", drain_timeout=0)
    first.close()
    with pytest.raises(BadInputError, match="holds the results of another sink") as info:
        open_network_sink(f"http://127.0.0.1:9/r?device=B&spool={tmp_path}", drain_timeout=0)
    assert "\n" not in str(info.value)
    again = open_network_sink(f"http://127.0.0.1:9/r?device=A&spool={tmp_path}", drain_timeout=0)
    again.close()  # the same destination may come back to its folder


def test_how_an_mqtt_sink_connects_does_not_change_its_spool():
    plain = parse_address("mqtt://127.0.0.1/edgecnn/t").identity()
    for options in ("client_id=pi-1", "cafile=/etc/ca.pem", "tls=0"):
        assert parse_address(f"mqtt://127.0.0.1/edgecnn/t?{options}").identity() == plain
    assert parse_address("mqtt://127.0.0.1/edgecnn/u").identity() != plain
