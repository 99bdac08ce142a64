"""The base every layer stands on: stdlib and numpy only, never TensorFlow.

errors, atomic file writes, the model manifest, replayable preprocessing, shapes, metrics,
console lines, native-output capture and optional-package imports.
"""
