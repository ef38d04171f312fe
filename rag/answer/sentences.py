"""Rank the sentences of the retrieved passages for a question: the one ranker behind open answers (pick a few
sentences) and the reader's window selection (read only the best sentences and their neighbours).

Cheap signals, all from what retrieval already has: the embedder's vectors of the question and each sentence,
the IDF-weighted share of the question's key terms in the sentence, the passage's retrieval rank, whether the
sentence opens its article (news leads with what matters), and how many numbers and names it holds (the facts
people ask about). Fragments of under MIN_WORDS words come last. Sentences that overlapping chunks repeat count
once. Weights were chosen on the news-dev dev split (docs/evaluation.md).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.answer.terms import PassageCoverage
from rag.contracts import Hit
from rag.embed import Embedder

SIMILARITY, TERMS, LEAD, RANK, FACTS = 0.8, 0.5, 0.15, 0.1, 0.5  # weights of the signals (news-dev dev split)
MIN_WORDS = 6  # shorter "sentences" are fragments of quotes and lists ("He's not")
LEAD_SENTENCES = 2  # an article's first sentences: its headline and lead
CACHE = 20_000  # sentence vectors kept: a follow-up or a popular question embeds nothing again


@dataclass
class Sentence:
    """A candidate sentence.

    Attributes:
        hit, index: where it is: hits[hit].chunk.sentences[index].
        doc_id, start: its article and offset there (the article's order).
        text: the sentence as the article has it.
        words: its length in words.
        lead: it is among its article's first sentences.
        relevance: the weighted score the ranker gives it.
        vector: its embedding, normalised (for diversity among chosen sentences).
    """

    hit: int
    index: int
    doc_id: str
    start: int
    text: str
    words: int
    lead: bool
    relevance: float = 0.0
    similarity: float = 0.0
    terms: float = 0.0
    vector: np.ndarray | None = None


class SentenceRanker:
    """Scores every sentence of the hits for a question; best first."""

    def __init__(self, embedder: Embedder, coverage: PassageCoverage):
        self.embedder, self.coverage = embedder, coverage
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def rank(self, question: str, terms: list[str], hits: list[Hit]) -> list[Sentence]:
        """Args:
            question: as asked. terms: its key lemmas (rag.answer.question.analyse). hits: best first.

        Returns:
            Each distinct sentence of the hits with its relevance, best first.
        """
        found = candidates(hits)
        if not found:
            return []
        vectors = self.vectors([question] + [s.text for s in found])
        weights = self.coverage.weights.idfs(terms)
        total = sum(weights.values()) or 1.0
        for sentence, vector in zip(found, vectors[1:]):
            lemmas = {t[2] for t in hits[sentence.hit].chunk.sentences[sentence.index].tokens}
            sentence.vector = vector
            sentence.similarity = float(vector @ vectors[0])
            sentence.terms = sum(w for t, w in weights.items() if t in lemmas) / total
            sentence.relevance = (SIMILARITY * sentence.similarity + TERMS * sentence.terms
                                  + LEAD * sentence.lead + RANK / (1 + sentence.hit) + FACTS * facts(sentence.text)
                                  - (sentence.words < MIN_WORDS))
        return sorted(found, key=lambda s: -s.relevance)

    def vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of the texts, normalised; each distinct text embedded once per process."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing)):
                self._vectors[text] = vector
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > CACHE:
            self._vectors.popitem(last=False)
        return np.stack([self._vectors[t] for t in texts])


FACT = re.compile(r"\d|(?<=[\w,;] )[A-Z]\w+")


def facts(text: str) -> float:
    """How much a sentence names: numbers and capitalised words past its first, per word (capped at 1)."""
    words = len(text.split())
    return min(1.0, 3 * len(FACT.findall(text)) / words) if words else 0.0


def candidates(hits: list[Hit]) -> list[Sentence]:
    """Every sentence of the hits once (overlapping chunks repeat sentences), in retrieval order."""
    seen: set[tuple[str, int]] = set()
    found = []
    for h, hit in enumerate(hits):
        chunk = hit.chunk
        first = chunk.id.endswith("#0")
        for i, text in enumerate(chunk.sentence_texts()):
            key = (chunk.doc_id, chunk.sentences[i].start)
            if key in seen or not text.strip():
                continue
            seen.add(key)
            found.append(Sentence(h, i, chunk.doc_id, chunk.sentences[i].start, text, len(text.split()),
                                  first and i < LEAD_SENTENCES))
    return found
