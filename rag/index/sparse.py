"""BM25 over a store's chunks: lexical search catches exact names and numbers that a small embedding model blurs.

Each chunk's stems are computed once, when the chunk is indexed, and kept with the store (and saved with each
generation), so adding a document stems only its own chunks; the score matrix is then rebuilt from the stems.
"""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer

from rag.contracts import Chunk

K1, B = 1.5, 0.75  # bm25s's defaults (Lucene's BM25); the PostgreSQL store scores with the same in SQL


def tokenizer() -> bm25s.tokenization.Tokenizer:
    """English stop words out, Snowball stems: the terms both stores rank by."""
    return bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))


def chunk_stems(chunks: list[Chunk]) -> list[list[str]]:
    """What BM25 indexes of each chunk: its title and text, as the embedder sees them."""
    return stems([chunk.embedding_text() for chunk in chunks])


def stems(texts: list[str]) -> list[list[str]]:
    """Each text's stems; a text of stop words only has none (bm25s would give it the empty token)."""
    tokenized = tokenizer().tokenize(texts, return_as="string", show_progress=False) if texts else []
    return [[t for t in terms if t] for terms in tokenized]


class Bm25:
    def __init__(self, terms: list[list[str]]):
        """`terms`: each chunk's stems, in chunk order."""
        self.vocabulary: dict[str, int] = {}
        ids = [[self.vocabulary.setdefault(t, len(self.vocabulary)) for t in chunk] for chunk in terms]
        self.model = bm25s.BM25(k1=K1, b=B)
        # bm25s adds its empty token to the vocabulary it is given: give it a copy
        self.model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=dict(self.vocabulary)), show_progress=False)

    def search(self, query: str, k: int, allowed: list[int] | None = None) -> list[tuple[int, float]]:
        """(chunk position, BM25 score) for up to k chunks sharing a term with the query; only the `allowed`
        positions when given."""
        ids = [self.vocabulary[t] for t in stems([query])[0] if t in self.vocabulary]
        if not ids:
            return []
        scores = self.model.get_scores(ids)
        if allowed is not None:
            kept = np.zeros_like(scores)
            kept[allowed] = scores[allowed]
            scores = kept
        top = np.argsort(-scores, kind="stable")[: min(k, len(scores))]
        return [(int(p), float(scores[p])) for p in top if scores[p] > 0]
