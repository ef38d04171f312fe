"""Corpus statistics for weighing question terms: rare words say more about a passage than common ones."""

from __future__ import annotations

import math
from collections import Counter

from spacy.language import Language

from rag.chunk import is_content
from rag.contracts import Chunk


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

    def coverage(self, terms: list[str], lemmas: set[str] | frozenset[str]) -> float:
        """The IDF-weighted share of the question's key terms that a passage mentions."""
        total = sum(self.idf(t) for t in terms)
        return sum(self.idf(t) for t in terms if t in lemmas) / total if total else 0.0


class PassageCoverage:
    """How much of a question a passage speaks to: the IDF-weighted share of the question's key terms
    found in the passage or its article's title. Readers use it to refuse answers from passages that
    are about something else."""

    def __init__(self, weights: TermWeights, nlp: Language):
        self.weights, self.nlp = weights, nlp
        self.title_terms = TitleTerms(nlp)

    def terms(self, question: str) -> list[str]:
        from rag.answer.question import analyse

        return analyse(question, self.nlp).terms

    def __call__(self, terms: list[str], chunk: Chunk) -> float:
        lemmas = {t[2] for sentence in chunk.sentences for t in sentence.tokens}
        return self.weights.coverage(terms, lemmas | self.title_terms(chunk.title))


class TitleTerms:
    """Content lemmas of each article title, parsed once: a title often names what its passages are about."""

    def __init__(self, nlp: Language):
        self.nlp = nlp
        self._cache: dict[str, frozenset[str]] = {}

    def __call__(self, title: str) -> frozenset[str]:
        if title not in self._cache:
            self._cache[title] = frozenset(t.lemma_.lower() for t in self.nlp(title) if is_content(t))
        return self._cache[title]
