"""The `sentence-transformers` embedder: the reference the ONNX backend is checked against."""

from __future__ import annotations

import logging

import numpy as np

from rag.embed import resolve_model_path


class SentenceTransformerEmbedder:
    batch_size = 64

    def __init__(self, model: str):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        transformers_logging.disable_progress_bar()  # a bar for loading 100 tensors is noise
        self.name = model
        self.model = SentenceTransformer(str(resolve_model_path(model)), device="cpu", local_files_only=True)
        self.dimension = int(self.model.get_embedding_dimension())
        self.max_tokens = int(self.model.get_max_seq_length())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.tokenize(text))
