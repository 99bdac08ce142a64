"""``--audio-features``: the text form of an audio front end, e.g. ``mfcc,mel_bands=40``."""

from __future__ import annotations

from edgecnn.core.audiofeatures import AudioFrontEnd, FeatureKind
from edgecnn.core.errors import BadInputError
from edgecnn.core.shapes import parse_list

DEFAULT_CLIP_MS = 1000
# MLPerf Tiny keyword spotting: 16 kHz, 30 ms windows every 20 ms, 40 mel bands, 10 MFCCs.
DEFAULTS = {"rate": 16000, "window_ms": 30.0, "hop_ms": 20.0}
INTEGER_KEYS = ("rate", "fft", "mel_bands", "coefficients")
FLOAT_KEYS = ("window_ms", "hop_ms", "lower_hz", "upper_hz")
TEXT_KEYS = ("spectrum",)
EXAMPLE = "mfcc,rate=16000,window_ms=30,hop_ms=20,mel_bands=40,coefficients=10"


def parse_front_end(spec: str | None, *, clip_ms: int = DEFAULT_CLIP_MS) -> AudioFrontEnd:
    """The front end a spec names: a feature kind, then ``key=value`` settings.

    Raises:
        BadInputError: an unknown kind or key, or a value that is not a number.
    """
    parts = parse_list(spec or "mfcc")
    kinds = [str(k) for k in FeatureKind]
    if not parts or parts[0] not in kinds:
        raise BadInputError(
            f"audio features {spec!r} must start with one of {', '.join(kinds)}; e.g. {EXAMPLE}"
        )
    settings = dict(DEFAULTS)
    for part in parts[1:]:
        key, _, value = part.partition("=")
        settings[key.strip()] = _value(key.strip(), value.strip(), spec)
    return _front_end(parts[0], settings, clip_ms)


def _value(key: str, text: str, spec: str | None) -> int | float | str:
    known = INTEGER_KEYS + FLOAT_KEYS + TEXT_KEYS
    if key not in known:
        raise BadInputError(
            f"audio features {spec!r}: unknown setting {key!r}; known: {', '.join(known)}"
        )
    if key in TEXT_KEYS:
        return text
    try:
        return int(text) if key in INTEGER_KEYS else float(text)
    except ValueError:
        kind = "an integer" if key in INTEGER_KEYS else "a number"
        raise BadInputError(f"audio features {key}={text!r} must be {kind}") from None


def _front_end(kind: str, settings: dict, clip_ms: int) -> AudioFrontEnd:
    if not isinstance(clip_ms, int) or clip_ms < 1:
        raise BadInputError(f"--clip-ms must be a positive number of milliseconds; got {clip_ms}")
    if "fft" in settings:
        settings["fft_size"] = settings.pop("fft")
    return AudioFrontEnd.from_ms(
        sample_rate_hz=settings.pop("rate"),
        clip_ms=clip_ms,
        window_ms=settings.pop("window_ms"),
        hop_ms=settings.pop("hop_ms"),
        feature=kind,
        **settings,
    )
