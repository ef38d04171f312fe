"""How much of a question a passage speaks to, weighed by the store's corpus statistics (rag/index/terms.py)."""

from __future__ import annotations

from rag.chunk import is_content
from rag.contracts import Chunk
from rag.index.terms import TermWeights
from rag.language.nlp import ENTITY_PIPES, Language


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

    def mentioned(self, terms: list[str], chunks: list[Chunk]) -> tuple[float, list[str]]:
        """The IDF-weighted share of the terms that any of the passages mentions, and those none does, rarest
        first: a question about something no passage names is "not in the indexed articles"."""
        lemmas: set[str] = set()
        for chunk in chunks:
            lemmas |= self.lemmas(chunk)
        idfs = self.weights.idfs(terms)
        missing = sorted((t for t in terms if t not in lemmas), key=lambda t: -idfs[t])
        return self.weights.coverage(terms, lemmas), missing

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
