"""Windows per second with an MQTT sink vs no sink, in one run (not a test).

Starts Debian's mosquitto on a free loopback port (as the tests do), replays the same
frames through ``edgecnn run``'s loop once with no sink and once publishing every result
(QoS 1, via the durable spool), alternating rounds.
Run: ``.venv/bin/python benchmarks/mqtt_figures.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))
from mosquitto_fixture import Broker  # noqa: E402 - the tests' broker launcher

from edgecnn.device.loop import run  # noqa: E402
from edgecnn.device.preflight import RunOptions

ROUNDS, WINDOWS = 3, 3000
FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "digits-lenet5-int8.tflite"


def rate(replay: Path, sinks: tuple[str, ...]) -> tuple[float, float, int]:
    """Windows/s of the loop, windows/s including the final drain, results dropped."""
    started = time.perf_counter()
    summary = run(
        str(FIXTURE),
        source=f"replay:{replay}",
        sinks=sinks,
        options=RunOptions(rate_hz=0),
        log=lambda _l: None,
    )
    total = time.perf_counter() - started
    return summary.windows / summary.seconds, summary.windows / total, summary.sink_drops


def main() -> None:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = Broker(binary, folder)
        broker.start()
        try:
            replay = folder / "frames.npz"
            np.savez(replay, x=np.random.default_rng(0).uniform(0, 16, (WINDOWS, 8, 8, 1)))
            null, mqtt = [], []
            for i in range(ROUNDS):
                null.append(rate(replay, ()))
                uri = f"mqtt://127.0.0.1:{broker.port}/bench?spool={folder / f'spool{i}'}"
                mqtt.append(rate(replay, (uri,)))
        finally:
            broker.stop()
    print(
        json.dumps(
            {
                "windows": WINDOWS,
                "null_sink_windows_per_s": round(float(np.median([r[0] for r in null]))),
                "mqtt_sink_windows_per_s_loop": round(float(np.median([r[0] for r in mqtt]))),
                "mqtt_sink_windows_per_s_until_all_delivered": round(
                    float(np.median([r[1] for r in mqtt]))
                ),
                "mqtt_results_dropped_per_round": [r[2] for r in mqtt],
            }
        )
    )


if __name__ == "__main__":
    main()
