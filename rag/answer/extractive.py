"""The `sentences` answerer: an open question ("Summarize…", "Tell me about…", "Why…", "Which… were…") gets one
to four sentences taken word for word from the retrieved passages, each cited on its own.

The sentences are the ranker's most relevant (rag/answer/sentences.py), chosen one at a time by maximal
marginal relevance, so that a second sentence adds a fact instead of repeating the first, up to a length
limit; then put back in the articles' order. A question whose key terms the passages do not mention gets the
same abstention as a short question ("not in the indexed articles").
"""

from __future__ import annotations

from rag.answer.question import analyse
from rag.answer.sentences import Sentence, SentenceRanker
from rag.answer.terms import PassageCoverage
from rag.contracts import Draft, Evidence, Hit, abstain
from rag.language.nlp import Language

DIVERSITY = 0.5  # MMR: weight of a sentence's similarity to those already chosen (news-dev dev split)
MAX_SENTENCES = 5  # the length limit in words (settings.max_words) usually stops first
NOT_MENTIONED = "not in the indexed articles"
NOT_SAID = "the articles don't say"
# Words that shape an open question but say nothing of its topic ("Summarize the article about X").
OPEN_FILLER = set("summarize summarise summary tell describe explain outline overview news story article report "
                  "happen happened latest know known detail details brief recap main key".split())


class SentencesAnswerer:
    name = "sentences"

    def __init__(self, ranker: SentenceRanker, coverage: PassageCoverage, nlp: Language, max_words: int = 100,
                 min_mentioned: float = 0.5, min_similarity: float = 0.2):
        self.ranker, self.coverage, self.nlp = ranker, coverage, nlp
        self.max_words, self.min_mentioned, self.min_similarity = max_words, min_mentioned, min_similarity

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        if not hits:
            return abstain("nothing was retrieved")
        terms = [t for t in analyse(question, self.nlp).terms if t not in OPEN_FILLER]
        mentioned, missing = self.coverage.mentioned(terms, [hit.chunk for hit in hits])
        if terms and mentioned < self.min_mentioned:
            return abstain(f"{NOT_MENTIONED}: no retrieved passage mentions {', '.join(map(repr, missing[:3]))}",
                           mentioned)
        ranked = self.ranker.rank(question, terms, hits)
        if not ranked or ranked[0].similarity < self.min_similarity:
            return abstain(f"{NOT_SAID}: no retrieved sentence is about what the question asks",
                           ranked[0].similarity if ranked else 0.0)
        chosen = self.select(ranked)
        parts = [clip(s.text, self.max_words) if i == 0 else s.text for i, s in enumerate(chosen)]
        return Draft(text=" ".join(parts), parts=parts, confidence=round(ranked[0].relevance, 4),
                     evidence=[Evidence(s.hit, s.index) for s in chosen])

    def select(self, ranked: list[Sentence]) -> list[Sentence]:
        """Maximal marginal relevance within the length limit, then the articles' order (articles in the order
        of their best sentence)."""
        pool = list(ranked)
        chosen = [pool.pop(0)]
        words = chosen[0].words
        while pool and len(chosen) < MAX_SENTENCES:
            best = max(pool, key=lambda s: (1 - DIVERSITY) * s.relevance
                       - DIVERSITY * max(float(s.vector @ c.vector) for c in chosen))
            pool.remove(best)
            if words + best.words <= self.max_words:
                chosen.append(best)
                words += best.words
        first = {}
        for s in chosen:
            first.setdefault(s.doc_id, len(first))
        return sorted(chosen, key=lambda s: (first[s.doc_id], s.start))


def clip(sentence: str, words: int) -> str:
    """A sentence longer than the limit is cut at a word and ends in "…" (cite checks it as the quote's start)."""
    parts = sentence.split()
    return sentence if len(parts) <= words else " ".join(parts[:words]) + "…"
