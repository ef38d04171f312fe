from __future__ import annotations

from rag.embed import Embedder
from rag.index.store import Store
from rag.contracts import Hit


class DenseRetriever:
    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def search(self, query: str, k: int) -> list[Hit]:
        vector = self.embedder.encode([query])[0]
        return [Hit(p, self.store.chunks[p], s) for p, s in self.store.search(vector, k)]
