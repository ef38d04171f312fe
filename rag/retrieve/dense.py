from __future__ import annotations

from rag.contracts import Hit
from rag.embed import Embedder


class DenseRetriever:
    def __init__(self, store, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        return self.store.dense(self.embedder.encode([query])[0], k, doc_ids)
