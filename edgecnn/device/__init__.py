"""The device side: numpy and a LiteRT interpreter only, never TensorFlow or Keras."""
