"""The MQTT sink: results published as JSON with QoS 1 (paho-mqtt 2.x), through the spool.

The connection result decides what a failure is. A broker that cannot be reached, or that
is restarting, is an outage: results wait in the spool and paho reconnects by itself. A
broker that refuses the login (wrong user name or password, not authorised, client id
refused) is a configuration error that no retry fixes: the sink sets ``fatal`` and the run
ends with that one line instead of spooling forever as if the broker were down.
"""

from __future__ import annotations

import json
import threading
import time

from edgecnn.core.optional import require
from edgecnn.device.io import spoolsink
from edgecnn.device.io.sinkaddr import SinkAddress
from edgecnn.device.io.spool import Spool

# CONNACK reason codes (MQTT 5 numbering; paho maps the 3.1.1 codes onto it) that mean the
# settings are wrong: unsupported protocol, client id refused, bad user name or password,
# not authorised, banned, bad authentication method.
CONFIG_REFUSALS = frozenset({132, 133, 134, 135, 138, 140})
PASSWORD_ENV = "EDGECNN_MQTT_PASSWORD"
MAX_INFLIGHT = 100  # PUBACKs awaited at once: faster than paho's 20, measured on loopback


class MqttSink(spoolsink.SpoolSink):
    """Publishes each result as JSON to one topic with QoS 1."""

    def __init__(self, address: SinkAddress, spool: Spool, **kwargs) -> None:
        """Connects in the background (paho reconnects by itself) and starts sending.

        Args:
            address: ``mqtt://[user[:pass]@]host[:port]/topic?username=&password=&tls=1&
                cafile=&client_id=``, parsed (the topic has no wildcards); the password may
                also come from ``EDGECNN_MQTT_PASSWORD``.
            spool: where results wait for their PUBACK.
            **kwargs: passed to :class:`~edgecnn.device.io.spoolsink.SpoolSink`.
        """
        mqtt = require("paho.mqtt.client", extra="mqtt", package="paho-mqtt")
        options = address.options
        self.topic = address.path
        tls = options.get("tls", "0") not in ("0", "", "false")
        port = address.port or (8883 if tls else 1883)
        self.address = address.endpoint(port)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=options.get("client_id", "")
        )
        if address.user is not None:
            self.client.username_pw_set(address.user, address.login_password(PASSWORD_ENV))
        if tls:
            self.client.tls_set(ca_certs=options.get("cafile") or None)
        self._tried = self._was_connected = False
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(
            min_delay=spoolsink.BACKOFF_FIRST_S, max_delay=spoolsink.BACKOFF_MAX_S
        )
        super().__init__(address.uri, spool, secrets=address.secrets, **kwargs)
        self.client.connect_async(address.host, port)
        self.client.loop_start()

    def send(self, records: list[dict]) -> int:
        """Publishes the batch at once (paho pipelines it); counts the PUBACKs, in order."""
        # Publishing while offline would park the messages in paho's own memory queue, which is
        # neither bounded by us nor durable: wait for the connection and let the spool hold them.
        if not self.client.is_connected():
            if self._tried:  # before the first connection result this is no failure yet
                self.offline(self.last_error or f"not connected to the broker at {self.address}")
            return 0
        sent = [self.client.publish(self.topic, json.dumps(r), qos=1) for r in records]
        confirmed = 0
        for info in sent:  # each one gets SEND_TIMEOUT_S after the previous PUBACK
            if self._stop.is_set() and not info.is_published():
                break  # closing: the rest stay spooled (and may arrive twice: at-least-once)
            try:
                self._wait_for_puback(info)
            except (RuntimeError, ValueError) as exc:  # not queued: the connection went away
                self.offline(str(exc))
                break
            if self._stop.is_set() and not info.is_published():
                break
            if not info.is_published():
                self.offline(f"no PUBACK from {self.address} in {spoolsink.SEND_TIMEOUT_S:g} s")
                break
            confirmed += 1
        self.delivered += confirmed
        return confirmed

    def _wait_for_puback(self, info) -> None:
        """Waits up to SEND_TIMEOUT_S for ``info``'s PUBACK, in slices: a stop ends it."""
        deadline = time.monotonic() + spoolsink.SEND_TIMEOUT_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            info.wait_for_publish(timeout=min(0.05, max(0.0, deadline - time.monotonic())))
            if info.is_published():
                return

    def _on_connect(self, _client, _userdata, _flags, reason, _properties) -> None:
        self._tried, self._was_connected = True, not reason.is_failure
        if not reason.is_failure:
            return
        if reason.value in CONFIG_REFUSALS:
            self.fatal = (
                f"sink {self.name}: the broker at {self.address} refused the login ({reason}); "
                f"check the user name and password (or {PASSWORD_ENV}) and the "
                "broker's access rules"
            )
            self.offline(f"login refused: {reason}")
        else:
            self.offline(f"the broker at {self.address} refused the connection ({reason})")

    def _on_connect_fail(self, _client, _userdata) -> None:
        self._tried = True
        self.offline(f"cannot connect to the broker at {self.address}")

    def _on_disconnect(self, _client, _userdata, _flags, reason, _properties) -> None:
        # Also called after a refused CONNACK: only a lost connection is news here.
        if reason.is_failure and self._was_connected:
            self.offline(f"the connection to {self.address} was lost ({reason})")
        self._was_connected = False

    def _disconnect(self) -> None:
        self.client.disconnect()
        # paho joins its network thread without a limit, and a connect to a host that does
        # not answer blocks it for long: that thread is a daemon, so wait a moment only.
        stopper = threading.Thread(target=self.client.loop_stop, daemon=True)
        stopper.start()
        stopper.join(timeout=spoolsink.STOP_GRACE_S)
