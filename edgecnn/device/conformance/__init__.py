"""Conformance of a device against a reference machine: same models, same inputs, same answers.

A kit folder holds model bundles, recorded inputs and the reference machine's results
(``expected/results.json``). ``edgecnn doctor --conformance KIT`` runs the kit here through
the real ``edgecnn`` commands and the runtime (never TensorFlow), then compares: fp32
outputs within 1e-5, int8 outputs within 1 LSB, top-1 identical, hash check working.
"""
