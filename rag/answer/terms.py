"""Corpus statistics for weighing question terms: rare words say more about a passage than common ones."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping

from rag.chunk import is_content
from rag.contracts import Chunk
from rag.nlp import ENTITY_PIPES, Language


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
        return self.weights.coverage(terms, self.lemmas(chunk))

    def lemmas(self, chunk: Chunk) -> set[str]:
        """What a passage mentions: its lemmas and its article title's."""
        return {t[2] for sentence in chunk.sentences for t in sentence.tokens} | self.title_terms(chunk.title)


class TitleTerms:
    """Content lemmas of each article title, parsed once: a title often names what its passages are about."""

    def __init__(self, nlp: Language):
        self.nlp = nlp
        self._cache: dict[str, frozenset[str]] = {}

    def __call__(self, title: str) -> frozenset[str]:
        if title not in self._cache:
            self._cache[title] = frozenset(t.lemma_.lower() for t in self.nlp(title, disable=ENTITY_PIPES)
                                            if is_content(t))
        return self._cache[title]
