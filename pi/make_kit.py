"""Makes a conformance kit on the host: model bundles, recorded inputs, the host's results.

Usage (from the repository root): ``.venv/bin/python pi/make_kit.py OUT``

The kit holds an int8 and an fp32 bundle of three models (8x8 digit images, a 3-axis IMU
cnn1d and a keyword-spotting DS-CNN on 49x10 MFCCs, from tests/fixtures), a digits image set
(.npz), a recorded IMU CSV and a 16 kHz WAV they replay (the audio through the streaming
front end, a window every 20 ms), and ``expected/results.json``: what this host computed
through the same commands. Copy the folder to a Raspberry Pi and run ``edgecnn doctor
--conformance OUT`` there.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.core.wav import write_wav
from edgecnn.device.conformance.check import format_check, run_check
from edgecnn.device.conformance.kit import write_kit
from edgecnn.training.data.synthetic import make_sensor_csv

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
BUNDLES = {"digits": "digits-lenet5", "imu": "imu-cnn1d", "kws": "kws-dscnn"}
INPUTS = {"digits": "inputs/digits.npz", "imu": "inputs/imu.csv", "kws": "inputs/audio.wav"}
AUDIO_SECONDS = 6
README = """A conformance kit made by edgecnn's pi/make_kit.py.

On the device (Raspberry Pi OS 64-bit, Python 3.11):
  python3 -m venv ~/edgecnn-venv
  ~/edgecnn-venv/bin/pip install "./edgecnn[device]"    # a copy of the repository
  ~/edgecnn-venv/bin/edgecnn doctor
  ~/edgecnn-venv/bin/edgecnn doctor --conformance THIS_FOLDER

It runs each model bundle in models/ on its input through `edgecnn run`, the runtime and
`edgecnn benchmark`, and compares with expected/results.json (made on the host): fp32
outputs within 1e-5, int8 within 1 LSB, top-1 identical. Exit code 0 = pass, 1 = fail.
"""


def make_kit(out: Path, *, images: int = 300, recordings: int = 2) -> Path:
    """Writes the kit and the host's reference results into ``out``; returns ``out``."""
    if out.exists():
        shutil.rmtree(out)
    (out / "models").mkdir(parents=True)
    (out / "inputs").mkdir()
    cases = []
    for key, stem in BUNDLES.items():
        for mode in ("int8", "fp32"):
            for suffix in (".tflite", ".json"):
                shutil.copy(FIXTURES / f"{stem}-{mode}{suffix}", out / "models")
            model = f"models/{stem}-{mode}.tflite"
            source = f"replay:{INPUTS[key]}"
            cases.append({"name": f"{key}-{mode}", "model": model, "source": source})
    write_digits(out / INPUTS["digits"], count=images)
    # seed 1: recordings the model never saw (the fixture was trained on seed 0)
    make_sensor_csv(out / INPUTS["imu"], recordings_per_class=recordings, seed=1)
    write_audio(out / INPUTS["kws"], seconds=AUDIO_SECONDS)
    write_kit(out, cases)
    fileio.write_text(out / "README.txt", README)
    return out


def write_digits(path: Path, *, count: int) -> None:
    """The first ``count`` 8x8 digits (raw 0..16 pixels), their classes and label names.

    uint8, as a camera or an image file gives them, so the runtime's 8-bit path is checked.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images[:count].astype(np.uint8)[..., np.newaxis]
    labels = np.array([str(n) for n in bunch.target_names])
    with fileio.atomic_path(path) as tmp:
        np.savez(tmp, x=x, y=bunch.target[:count].astype(np.int64), labels=labels)


def write_audio(path: Path, *, seconds: int, rate: int = 16000) -> None:
    """A seeded recording for the keyword model: tone bursts with changing pitch in noise."""
    rng = np.random.default_rng(3)
    t = np.arange(seconds * rate) / rate
    pitch = 300 + 200 * np.floor(t * 2)  # a new pitch every half second
    bursts = np.sin(2 * np.pi * pitch * t) * (np.sin(2 * np.pi * 1.5 * t) > 0.3)
    write_wav(path, 0.4 * bursts + 0.02 * rng.standard_normal(t.size), sample_rate_hz=rate)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the kit folder to (re)create")
    parser.add_argument("--images", type=int, default=300, help="digit images to replay")
    args = parser.parse_args(argv)
    kit = make_kit(args.out, images=args.images)
    check = run_check(kit, out=kit / "expected")
    print(format_check(check))
    print(f"kit ready: {kit} (reference results in {kit / 'expected' / 'results.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
