"""Find the passages for a question (stage 5). `retrieval` picks `dense` (the store's vector search) or `hybrid`
(vector + the store's BM25 search, fused by rank). The factories import their modules, so checking a
mode's name imports nothing heavy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.contracts import Retriever
from rag.registry import Registry

if TYPE_CHECKING:
    from rag.embed import Embedder
    from rag.index.contract import Searchable

RETRIEVERS = Registry("retrieval mode")


@RETRIEVERS.register("dense")
def _dense(store: Searchable, embedder: Embedder, rrf_k: int) -> Retriever:
    from rag.retrieve.dense import DenseRetriever

    return DenseRetriever(store, embedder)


@RETRIEVERS.register("hybrid")
def _hybrid(store: Searchable, embedder: Embedder, rrf_k: int) -> Retriever:
    from rag.retrieve.fusion import FusedInStore, HybridRetriever
    from rag.retrieve.lexical import LexicalRetriever

    if store.hybrid is not None:  # a database fuses both rankings in one query
        return FusedInStore(store, embedder, rrf_k)
    return HybridRetriever([_dense(store, embedder, rrf_k), LexicalRetriever(store)], rrf_k=rrf_k)


def make_retriever(mode: str, store: Searchable, embedder: Embedder, rrf_k: int = 60) -> Retriever:
    return RETRIEVERS.create(mode, store, embedder, rrf_k)
