"""Host tooling that makes a trained model smaller: pruning, conversion and quantization."""
