"""The audio front end on a stream: only the frames a new window adds are computed.

At run time a window is due every hop (20 ms by default) and overlaps the previous one by
all but one hop, so all but the newest frames of its features are already known. This
keeps them (shifted) and computes the rest; a window that does not continue the previous
one (a new recording, dropped samples) gets all its frames computed. The frames are the
same numbers either way (bit for bit on the development machine; another BLAS may round a
matrix product's last bit differently). Device side: numpy.
"""

from __future__ import annotations

import numpy as np

from edgecnn.core.audiofeatures import AudioFrontEnd, frame_features


class StreamingFrontEnd:
    """Features of successive windows ``hop`` samples apart, reusing the shared frames.

    Args:
        front: the model's front end.
        hop: samples between windows at run time (the manifest's ``hop``).
    """

    def __init__(self, front: AudioFrontEnd, *, hop: int) -> None:
        self.front = front
        shift = hop // front.hop_samples
        # frames carry over only when a window moves by whole frame hops
        self.shift = shift if hop % front.hop_samples == 0 and 0 < shift < front.frames else 0
        self.hop = hop
        self._clip: np.ndarray | None = None
        self._features: np.ndarray | None = None
        self.reused = 0  # windows that reused frames (for tests and benchmarks)

    def __call__(self, clip: np.ndarray) -> np.ndarray:
        """Features (frames, bins, 1) of one window of ``clip_samples`` samples."""
        clip = np.asarray(clip).reshape(-1)
        if clip.dtype == np.int16:  # PCM, scaled as the front end scales it
            clip = clip / np.float32(32768.0)
        clip = clip.astype(np.float32, copy=False)
        if self._continues(clip):
            kept = self.front.frames - self.shift
            features = np.empty_like(self._features)
            features[:kept] = self._features[self.shift :]
            start = kept * self.front.hop_samples
            features[kept:] = frame_features(self.front, clip[start:], self.shift)[..., None]
            self.reused += 1
        else:
            features = self.front.compute(clip)
        self._clip, self._features = clip, features
        return features

    def _continues(self, clip: np.ndarray) -> bool:
        """True when ``clip`` is the previous window moved on by exactly one hop."""
        previous = self._clip
        return (
            self.shift > 0
            and previous is not None
            and np.array_equal(clip[: -self.hop], previous[self.hop :])
        )
