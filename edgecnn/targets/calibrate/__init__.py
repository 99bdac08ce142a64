"""Refitting the board cost model from published measurements (host side: needs TensorFlow)."""
