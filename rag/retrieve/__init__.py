"""Find the passages for a question (stage 5). `retrieval` picks dense or hybrid (dense + BM25, fused by rank)."""

from __future__ import annotations

from rag.embed import Embedder
from rag.errors import RagError
from rag.index.store import Store
from rag.retrieve.bm25 import BM25Retriever
from rag.retrieve.dense import DenseRetriever
from rag.retrieve.fusion import HybridRetriever
from rag.contracts import Hit, Retriever

RETRIEVAL_MODES = ("dense", "hybrid")


def make_retriever(mode: str, store: Store, embedder: Embedder, rrf_k: int = 60) -> Retriever:
    dense = DenseRetriever(store, embedder)
    if mode == "dense":
        return dense
    if mode == "hybrid":
        return HybridRetriever([dense, BM25Retriever(store)], rrf_k=rrf_k)
    raise RagError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(RETRIEVAL_MODES)}")


__all__ = ["Hit", "Retriever", "make_retriever", "RETRIEVAL_MODES"]
