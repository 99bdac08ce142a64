"""Where the audio front end should live: numpy beside the model, or inside the .tflite.

Builds the MFCC front end (MLPerf Tiny KWS settings) as a TensorFlow graph, converts it with
builtin ops only, and compares it with ``edgecnn.core.audiofeatures`` on one clip: the ops
LiteRT runs, the largest feature difference, and the time per clip of each, side by side.

Usage: .venv/bin/python benchmarks/audio_frontend_graph.py
"""

from __future__ import annotations

import time

import numpy as np

from edgecnn.core.audiofeatures import AudioFrontEnd
from edgecnn.training.tfdeps import tensorflow


def graph_front_end(front: AudioFrontEnd) -> bytes:
    """The front end as a .tflite of builtin ops (the DCT as a matmul: tf.signal's DCT
    converts to a strided slice of complex numbers, which builtins cannot run)."""
    tf = tensorflow()
    mel = tf.constant(front.tables().mel, tf.float32)
    dct = tf.constant(front.tables().dct, tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([1, front.clip_samples], tf.float32)])
    def features(x):
        stft = tf.signal.stft(x, front.frame_samples, front.hop_samples, front.fft_size)
        log_mel = tf.math.log(tf.tensordot(tf.abs(stft), mel, 1) + front.log_floor)
        return tf.tensordot(log_mel, dct, 1)[..., tf.newaxis]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [features.get_concrete_function()], features
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def per_clip_ms(fn, reps: int = 300) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - started) / reps * 1e3


def main() -> None:
    from edgecnn.device.interpreter import interpreter_class

    front = AudioFrontEnd()
    blob = graph_front_end(front)
    interpreter = interpreter_class()(model_content=blob, num_threads=1)
    interpreter.allocate_tensors()
    ops = sorted({d["op_name"] for d in interpreter._get_ops_details()})
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]
    clip = (np.random.default_rng(0).standard_normal(front.clip_samples) * 0.1).astype(np.float32)

    def run_graph():
        interpreter.set_tensor(inp, clip[np.newaxis])
        interpreter.invoke()
        return interpreter.get_tensor(out)[0]

    diff = float(np.abs(run_graph() - front.compute(clip)).max())
    print(f"graph: {len(blob):,} bytes, ops {', '.join(ops)}; max |graph - numpy| {diff:.2e}")
    for _ in range(3):
        numpy_ms, graph_ms = per_clip_ms(lambda: front.compute(clip)), per_clip_ms(run_graph)
        print(f"per clip: numpy {numpy_ms:.3f} ms, LiteRT graph {graph_ms:.3f} ms "
              f"({graph_ms / numpy_ms:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
