"""The tooling around the product: `evaluation` (rag eval), `bench` (rag bench, rag stress) and `train` (rag train,
rag calibrate). Answering never imports it (tests/test_layout.py checks), so it may import any stage."""
