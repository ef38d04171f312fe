"""`rag train-reader` and `rag calibrate-reader`: data checks, windows, the Trainer, ONNX export, the e5 base."""
