"""Host tooling for training: data, the model zoo, training, summaries and run folders.

Importing this package does not import TensorFlow; the modules that build or fit models do.
"""
