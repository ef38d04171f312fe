from __future__ import annotations

from rag.contracts import Hit


class LexicalRetriever:
    """The store's own full-text search: BM25, by bm25s in memory for FAISS and in SQL for postgres."""

    def __init__(self, store):
        self.store = store
        store.lexical("", 1)  # builds the store's lexical index now, before the store is served, not on a question

    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        return self.store.lexical(query, k, doc_ids)
