"""Data sources, splits, augmentation and class balancing for training.

Import the submodules you need; :func:`edgecnn.training.data.sources.load_data` is the entry point.
"""
