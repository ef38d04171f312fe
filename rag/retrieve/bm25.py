"""Lexical retrieval: catches exact names and numbers that a small embedding model blurs."""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer

from rag.index.store import Store
from rag.contracts import Hit


class BM25Retriever:
    def __init__(self, store: Store):
        self.store = store
        self.tokenizer = bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))
        corpus = self.tokenizer.tokenize(
            [c.embedding_text() for c in store.chunks], return_as="tuple", show_progress=False
        )
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)

    def search(self, query: str, k: int) -> list[Hit]:
        ids = self.tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        k = min(k, len(scores))
        top = np.argsort(-scores, kind="stable")[:k]
        return [Hit(int(p), self.store.chunks[int(p)], float(scores[p])) for p in top if scores[p] > 0]
