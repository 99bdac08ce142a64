"""espeak-ng: its version, English voices and variants, drawn speakers, and speaking a word."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgecnn.core.errors import MissingDependencyError, RunFailedError
from edgecnn.core.records import Record
from edgecnn.core.wav import read_wav

SPEED_WPM = (120, 200)
PITCH = (20, 80)
# Variants that sound like people (not robots or effects); "" is the voice's own.
VARIANTS = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "croak",
    "klatt", "klatt2", "klatt3", "klatt4", "whisper", "whisperf", "grandma", "grandpa", "aunty",
    "linda", "steph", "Annie", "Andy", "Alex", "adam", "max", "travis", "edward", "john", "paul",
    "rob", "robert", "quincy", "victor", "belinda", "Michael", "Mike", "Lee", "Jacky",
)
MISSING = "generating the keyword set needs espeak-ng: sudo apt-get install espeak-ng"


@dataclass(frozen=True)
class Speaker(Record):
    """One espeak-ng voice, variant, speed (words per minute) and pitch (0-99)."""

    id: str
    voice: str
    variant: str
    speed_wpm: int
    pitch: int


def _espeak() -> str:
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise MissingDependencyError(MISSING)
    return exe


def _ask(*args: str) -> str:
    done = subprocess.run([_espeak(), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RunFailedError(f"espeak-ng {' '.join(args)} failed: {done.stderr.strip()[:200]}")
    return done.stdout


def espeak_version() -> str:
    """espeak-ng's version, e.g. ``"1.51"``; MissingDependencyError when it is not installed."""
    text = _ask("--version")
    found = re.search(r"text-to-speech:\s*(\S+)", text)
    return found.group(1) if found else text.strip().splitlines()[0]


def espeak_voices() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The English voices (espeak-ng's own, not MBROLA) and the :data:`VARIANTS` installed."""
    voices = set()
    for line in _ask("--voices=en").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 5 and fields[1].startswith("en") and not fields[4].startswith("mb/"):
            voices.add(fields[1])
    found = set(re.findall(r"!v/(\S+)", _ask("--voices=variant")))
    variants = tuple(v for v in VARIANTS if not v or v in found)
    if not voices:
        raise RunFailedError("espeak-ng lists no English voice; install espeak-ng-data")
    return tuple(sorted(voices)), variants


def draw_speakers(count: int, *, seed: int) -> list[Speaker]:
    """``count`` speakers: voice and variant pairs without repeats (until all are used), each
    with a random speed and pitch."""
    voices, variants = espeak_voices()
    pairs = [(voice, variant) for voice in voices for variant in variants]
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(pairs))
    width = max(3, len(str(count - 1)))
    speakers = []
    for i in range(count):
        voice, variant = pairs[order[i % len(pairs)]]
        speed = rng.integers(SPEED_WPM[0], SPEED_WPM[1] + 1)
        pitch = rng.integers(PITCH[0], PITCH[1] + 1)
        speakers.append(Speaker(f"spk{i:0{width}d}", voice, variant, int(speed), int(pitch)))
    return speakers


def speak(word: str, speaker: Speaker, *, folder: Path) -> tuple[np.ndarray, int]:
    """espeak-ng saying ``word`` as ``speaker``: samples (float32) and their rate."""
    path = folder / f"{speaker.id}-{word}.wav"
    voice = speaker.voice + (f"+{speaker.variant}" if speaker.variant else "")
    args = ["-v", voice, "-s", str(speaker.speed_wpm), "-p", str(speaker.pitch), "-w", str(path)]
    _ask(*args, word)
    audio = read_wav(path)
    path.unlink()
    if not np.any(audio.samples):
        raise RunFailedError(f"espeak-ng said nothing for {word!r} with voice {voice}")
    return audio.samples, audio.sample_rate_hz
