"""What the generated sketch says about the model, the board and the memory: one record."""

from __future__ import annotations

import math
from dataclasses import dataclass

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.interpreter import TensorInfo
from edgecnn.export.arduino_boards import ArduinoTarget
from edgecnn.export.audiofrontend_c import work_ram_bytes


@dataclass(frozen=True)
class SketchSpec:
    """Everything the generated files say about the model, the board and the memory."""

    sketch: str
    model_file: str
    sha256: str
    model: bytes
    board_id: str
    board_name: str
    ram_bytes: int
    flash_bytes: int | None
    target: ArduinoTarget
    ops: tuple[str, ...]
    methods: tuple[str, ...]
    input: TensorInfo
    output: TensorInfo
    labels: tuple[str, ...]
    preprocessing: Preprocessing | None
    raw_scale: float
    raw_offset: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    arena_bytes: int
    arena_with_margin_bytes: int
    edgecnn_version: str
    audio: AudioFrontEnd | None = None

    @property
    def input_elements(self) -> int:
        """Values per inference (the input shape without batch, multiplied out)."""
        return math.prod(self.input.shape[1:])

    @property
    def raw_elements(self) -> int:
        """Values per request line: the PCM samples of one clip, or the input values."""
        return self.audio.clip_samples if self.audio else self.input_elements

    @property
    def audio_ram_bytes(self) -> int:
        """Static RAM beyond the arena for audio: PCM clip, features, front-end buffers."""
        if self.audio is None:
            return 0
        return 2 * self.audio.clip_samples + 4 * self.input_elements + work_ram_bytes(self.audio)
