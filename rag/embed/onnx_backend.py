"""The `onnx` embedder: tokenizers + ONNX Runtime + mean pooling in numpy, as sentence-transformers does it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rag.progress import tracked

from rag.embed import resolve_model_path
from rag.embed.onnx_export import INPUTS, cached_export
from rag.errors import RagError


class OnnxEmbedder:
    batch_size = 64

    def __init__(self, model: str, cache_dir: Path):
        import onnxruntime
        from tokenizers import Tokenizer

        path = resolve_model_path(model)
        _require_mean_pooling(path)
        self.name = model
        self.max_tokens = json.loads((path / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.dimension = json.loads((path / "config.json").read_text())["hidden_size"]
        self.counter = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.counter.no_truncation()
        self.counter.no_padding()
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # Idle threads that spin after a run take the core the reader needs next (see rag/answer/spans.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            str(cached_export(path, cache_dir)), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        starts = range(0, len(texts), self.batch_size)
        for start in tracked(starts, "Embedding", "batch", progress):
            batch = order[start : start + self.batch_size]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {name: feeds[name] for name in INPUTS})[0]
        mask = feeds["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def count_tokens(self, text: str) -> int:
        return len(self.counter.encode(text, add_special_tokens=False).ids)


def _require_mean_pooling(path: Path) -> None:
    pooling = path / "1_Pooling" / "config.json"
    if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens"):
        raise RagError(f"the onnx embedder supports mean-pooling models only; use sentence-transformers for {path}")
