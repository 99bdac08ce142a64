"""Source templates of the generated Arduino sketch (``string.Template``: C++ has no ``$``).

One module per part of the sketch, all re-exported here:

- ``templates_model``: the shared ``HEADER`` and the files that carry the model's values
  (``model_data.*``, ``model_settings.h``, ``model_ops.h``);
- ``templates_io``: ``model_io.*``, every computation that is not TFLite Micro or Arduino
  (preprocessing, quantization, parsing, top-1), so that edgecnn's tests compile and run it
  on the PC;
- ``templates_ino``: the ``.ino`` itself (interpreter setup and the serial loop);
- ``templates_audio``: what an audio model's sketch puts in their placeholders (a PCM line
  reader, the front end call, its buffers and README texts); other models get the original
  text, byte for byte;
- ``templates_readme``: the sketch's README.md.
"""

from edgecnn.export.templates_ino import SKETCH_INO
from edgecnn.export.templates_io import MODEL_IO_CPP, MODEL_IO_H
from edgecnn.export.templates_model import (
    HEADER,
    MODEL_DATA_CPP,
    MODEL_DATA_H,
    MODEL_OPS_H,
    MODEL_SETTINGS_H,
)

__all__ = [
    "HEADER",
    "MODEL_DATA_CPP",
    "MODEL_DATA_H",
    "MODEL_IO_CPP",
    "MODEL_IO_H",
    "MODEL_OPS_H",
    "MODEL_SETTINGS_H",
    "SKETCH_INO",
]
