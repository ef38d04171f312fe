"""Corpus statistics for weighing question terms: rare words say more about a passage than common ones."""

from __future__ import annotations

import math
from collections import Counter

from rag.chunk import Chunk


class TermWeights:
    def __init__(self, chunks: list[Chunk]):
        seen: set[tuple[str, int]] = set()
        df: Counter[str] = Counter()
        for chunk in chunks:
            for sentence in chunk.sentences:
                key = (chunk.doc_id, sentence.start)
                if key in seen:  # overlapping chunks repeat sentences
                    continue
                seen.add(key)
                df.update({t[2] for t in sentence.tokens if t[3]})
        self.sentences = max(1, len(seen))
        self.df = df

    def idf(self, term: str) -> float:
        """Unseen terms weigh most: a question about something the corpus never mentions is not covered."""
        return math.log((self.sentences + 1) / (self.df.get(term, 0) + 0.5)) + 1.0
