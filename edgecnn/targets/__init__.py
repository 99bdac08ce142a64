"""Target boards: profiles, the latency cost model, estimates, board and TFLite Micro checks.

Device side: nothing here imports TensorFlow or Keras (``edgecnn benchmark --board`` runs on
a Pi). Refitting the cost model needs TensorFlow and lives on the host side, in ``edgecnn.costfit``.
"""
