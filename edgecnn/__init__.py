"""edgecnn: small CNNs from training to Raspberry Pi and microcontrollers, offline.

Importing this package is cheap: TensorFlow and other heavy packages are imported only by
the modules that need them.
"""

__version__ = "0.1.0"
