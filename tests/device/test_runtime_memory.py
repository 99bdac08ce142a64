"""A long replay must not grow memory: results are streamed, statistics are bounded."""


import numpy as np
import pytest

from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from tests.testkit import FIXTURES

FIXTURE = FIXTURES / "digits-lenet5-int8.tflite"
PAGE = 4096


def current_rss() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


@pytest.mark.slow
def test_rss_stays_flat_over_50k_windows(tmp_path):
    replay = tmp_path / "long.npz"
    np.savez(
        replay, x=np.random.default_rng(0).uniform(0, 16, (50_000, 8, 8, 1)).astype(np.float32)
    )
    samples: list[int] = []
    summary = run(
        str(FIXTURE),
        source=f"replay:{replay}",
        sinks=[f"jsonl:{tmp_path / 'r.jsonl'}"],
        options=RunOptions(rate_hz=0, metrics_every=0.25),
        log=lambda _line: samples.append(current_rss()),
    )
    assert summary.windows == 50_000
    assert len(samples) >= 3, "the run was too quick to sample memory"
    growth = max(samples[1:]) - samples[1]  # after warm-up, memory must not keep climbing
    assert growth < 8 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over the replay"
