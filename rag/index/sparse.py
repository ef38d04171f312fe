"""BM25 over a store's chunks: lexical search catches exact names and numbers that a small embedding model blurs."""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer

from rag.contracts import Chunk


class Bm25:
    def __init__(self, chunks: list[Chunk]):
        self.tokenizer = bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))
        corpus = self.tokenizer.tokenize([c.embedding_text() for c in chunks], return_as="tuple", show_progress=False)
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)

    def search(self, query: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) for up to k chunks sharing a term with the query; only the `allowed`
        positions when given."""
        ids = self.tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        if allowed is not None:
            kept = np.zeros_like(scores)
            kept[allowed] = scores[allowed]
            scores = kept
        top = np.argsort(-scores, kind="stable")[: min(k, len(scores))]
        return [(int(p), float(scores[p])) for p in top if scores[p] > 0]
