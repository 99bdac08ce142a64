"""Ship a converted model to a device as source: ``edgecnn export arduino`` writes a sketch.

No TensorFlow here: an export reads the .tflite with LiteRT and sizes the tensor arena with
the TFLite Micro interpreter (``pip install "edgecnn[mcu]"``).
"""

from edgecnn.export.arduino import ArduinoExport, export_arduino
from edgecnn.export.sketchfit import arena_with_margin

__all__ = ["ArduinoExport", "arena_with_margin", "export_arduino"]
