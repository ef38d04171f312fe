"""Reciprocal rank fusion: combines rankings without calibrating their very different score scales.

Fused scores are divided by the best possible one, so 1.0 means "first in every ranking" and people can read
them; the order is that of plain reciprocal-rank fusion."""

from __future__ import annotations

from rag.contracts import Hit, Retriever

# Each retriever proposes this many candidates whatever k is, so the top 5 does not depend on asking for 5 or 10.
CANDIDATE_DEPTH = 50


class HybridRetriever:
    def __init__(self, retrievers: list[Retriever], rrf_k: int = 60):
        self.retrievers = retrievers
        self.rrf_k = rrf_k

    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        fused: dict[int, float] = {}
        chunks = {}
        for retriever in self.retrievers:
            for rank, hit in enumerate(retriever.search(query, max(k, CANDIDATE_DEPTH), doc_ids)):
                fused[hit.position] = fused.get(hit.position, 0.0) + 1.0 / (self.rrf_k + rank + 1)
                chunks[hit.position] = hit.chunk
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
        best = len(self.retrievers) / (self.rrf_k + 1)
        return [Hit(p, chunks[p], round(score / best, 4)) for p, score in ranked]


class FusedInStore:
    """The same fusion, done by a store that can rank both ways in one query (PostgreSQL)."""

    def __init__(self, store, embedder, rrf_k: int = 60):
        self.store, self.embedder, self.rrf_k = store, embedder, rrf_k

    def search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        vector = self.embedder.encode([query])[0]
        return self.store.hybrid(vector, query, k, self.rrf_k, max(k, CANDIDATE_DEPTH), doc_ids)
