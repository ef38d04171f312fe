"""Corpus statistics for weighing question terms: rare words say more about a passage than common ones. The
store keeps them (both stores count the same way); readers weigh question terms with them (rag/answer/terms.py)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from rag.contracts import Chunk


def sentence_terms(chunks: list[Chunk]) -> tuple[int, Counter[str]]:
    """(sentences, sentences each content lemma occurs in) over chunks, counting a sentence that
    overlapping chunks repeat once."""
    seen: set[tuple[str, int]] = set()
    df: Counter[str] = Counter()
    for chunk in chunks:
        for sentence in chunk.sentences:
            key = (chunk.doc_id, sentence.start)
            if key not in seen:
                seen.add(key)
                df.update({t[2] for t in sentence.tokens if t[3]})
    return len(seen), df


class TermWeights:
    """Inverse document frequency over sentences. Subclasses fetch the counts elsewhere (a database) by
    overriding `counts`."""

    def __init__(self, sentences: int, df: Mapping[str, int]):
        self.sentences, self.df = max(1, sentences), df

    @classmethod
    def of(cls, chunks: list[Chunk]) -> "TermWeights":
        return cls(*sentence_terms(chunks))

    def counts(self, terms: list[str]) -> tuple[int, Mapping[str, int]]:
        return self.sentences, self.df

    def idfs(self, terms: list[str]) -> dict[str, float]:
        """Unseen terms weigh most: a question about something the corpus never mentions is not covered."""
        sentences, df = self.counts(terms)
        return {t: math.log((sentences + 1) / (df.get(t, 0) + 0.5)) + 1.0 for t in terms}

    def idf(self, term: str) -> float:
        return self.idfs([term])[term]

    def coverage(self, terms: list[str], lemmas: set[str] | frozenset[str]) -> float:
        """The IDF-weighted share of the question's key terms that a passage mentions."""
        weights = self.idfs(terms)
        total = sum(weights[t] for t in terms)
        return sum(weights[t] for t in terms if t in lemmas) / total if total else 0.0
