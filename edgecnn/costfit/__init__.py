"""Refitting the board cost model from published measurements (host side: needs TensorFlow).

The coefficients it fits are read on the device side by :mod:`edgecnn.targets.costmodel`;
rebuilding the reference graphs needs the zoo and the converter, counting their
instructions the emulated firmware of :mod:`edgecnn.mcu`.
"""
