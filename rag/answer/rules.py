"""The offline reader: picks a short span, verbatim, from a retrieved passage.

Candidates are the named entities and noun phrases of the passages. Each is scored on how well
its sentence matches the question, whether its type fits what the question asks for, how close it
sits to the question's words, and how highly its passage was retrieved. It abstains when the best
candidate's surroundings do not cover the question's key terms, whatever the retrieval score says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.question import ROLE_NOUNS, Question, analyse
from rag.answer.terms import TitleTerms
from rag.chunk import passage_entities
from rag.contracts import Chunk, Draft, Evidence, Hit, Sentence, abstain
from rag.index.contract import Searchable
from rag.language.nlp import Language

WEIGHTS = {"window": 0.45, "support": 0.20, "rank": 0.10, "type": 0.15, "specific": 0.15, "head": 0.15}
DECAY_TOKENS = 6  # a question term this many tokens from the candidate counts half
COMMA_TOKENS = 3  # each comma between a term and the candidate adds this much distance: lists separate items
QUESTION_OVERLAP_PENALTY = 0.35
OTHER_ROLE_PENALTY = 0.2  # "Mayor Kang" does not answer "who is the governor"
MAX_CITATIONS = 3
MAX_SPAN_CHARS = 120


@dataclass
class Candidate:
    hit: int
    sentence: int
    start: int
    end: int
    score: float
    support: float


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s.,%]", " ", text.lower())).strip()


class RulesAnswerer:
    name = "rules"

    def __init__(self, store: Searchable, nlp: Language, min_support: float, min_confidence: float):
        self.documents = store.documents
        self.nlp = nlp
        self.weights = store.term_weights()
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.title_terms = TitleTerms(nlp)

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        q = analyse(question, self.nlp)
        if not q.terms:
            return abstain("the question has no content words to look for")
        if not hits:
            return abstain("nothing was retrieved")
        weight = self.weights.idfs(q.terms)
        total = sum(weight.values())
        question_text = normalise(question)

        best: Candidate | None = None
        for rank, hit in enumerate(hits):
            text = self.documents[hit.chunk.doc_id].text
            title_terms = self.title_terms(hit.chunk.title)
            for si, sentence in enumerate(hit.chunk.sentences):
                lemmas = {t[2] for t in sentence.tokens}
                matched = [t for t in q.terms if t in lemmas]
                if not matched:
                    continue
                context = lemmas | title_terms | _neighbour_lemmas(hit.chunk, si)
                support = self.weights.coverage(q.terms, context)
                anchors = [(i, t[2]) for i, t in enumerate(sentence.tokens) if t[2] in matched]
                asked = set(q.terms) - {q.root}  # the head noun names the answer's kind; it may be part of it
                for start, end, label in _candidates(hit.chunk, self._entities(hit.chunk), sentence, q):
                    span_tokens = [i for i, t in enumerate(sentence.tokens) if t[0] >= start and t[1] <= end]
                    if not span_tokens or end - start > MAX_SPAN_CHARS:
                        continue
                    span_terms = {sentence.tokens[i][2] for i in span_tokens if sentence.tokens[i][3]}
                    if not span_terms or span_terms <= set(q.terms) or normalise(text[start:end]) in question_text:
                        continue  # never answer with the question's own words
                    overlap = len(span_terms & asked) / len(span_terms)
                    head_fit = _head_fit(sentence, span_tokens, span_terms, q)
                    if q.kind == "count" and head_fit < 0:
                        continue  # "how many students": a number of organisations is no answer at all
                    score = (
                        WEIGHTS["window"] * _window(anchors, span_tokens, sentence.tokens, weight, total, label == "PERSON")
                        + WEIGHTS["head"] * head_fit
                        + WEIGHTS["support"] * support
                        + WEIGHTS["rank"] / (1 + rank)
                        + WEIGHTS["type"] * q.type_fit(label)
                        + WEIGHTS["specific"] * self._specificity(span_terms)
                        - QUESTION_OVERLAP_PENALTY * overlap
                        - OTHER_ROLE_PENALTY * _other_role(sentence, span_tokens, label, q)
                    )
                    if best is None or score > best.score:
                        best = Candidate(rank, si, start, end, score, support)

        if best is None:
            return abstain("no passage mentions an answer of the kind the question asks for")
        confidence = max(0.0, min(1.0, best.score))
        if best.support < self.min_support:
            return abstain(f"the best passage covers only {best.support:.0%} of the question's key terms", confidence)
        if confidence < self.min_confidence:
            return abstain(f"reader confidence {confidence:.2f} is below {self.min_confidence:.2f}", confidence)
        answer_text = self.documents[hits[best.hit].chunk.doc_id].text[best.start : best.end]
        return Draft(text=answer_text, evidence=self._evidence(best, answer_text, hits), confidence=confidence)

    def _entities(self, chunk: Chunk) -> list[tuple[str, int, int]]:
        """Found at index time when `rules` is the configured answerer; otherwise here, once per passage."""
        if chunk.entities is not None:
            return chunk.entities
        text = self.documents[chunk.doc_id].text[chunk.start : chunk.end]
        return passage_entities(self.nlp, text, chunk.start, tuple((s.start, s.end) for s in chunk.sentences))

    def _specificity(self, span_terms: set[str]) -> float:
        """Answers made only of words found all over the corpus (like "AI" here) say little."""
        top = self.weights.idf("")  # the weight of a term never seen
        return max(self.weights.idfs(span_terms).values()) / top

    def _evidence(self, best: Candidate, answer_text: str, hits: list[Hit]) -> list[Evidence]:
        """The chosen sentence first, then other retrieved sentences that state the same answer."""
        evidence = [Evidence(best.hit, best.sentence, best.start, best.end)]
        seen = {(hits[best.hit].chunk.doc_id, hits[best.hit].chunk.sentences[best.sentence].start)}
        needle = answer_text.lower()
        for h, hit in enumerate(hits):
            text = self.documents[hit.chunk.doc_id].text
            for si, sentence in enumerate(hit.chunk.sentences):
                key = (hit.chunk.doc_id, sentence.start)
                found = text[sentence.start : sentence.end].lower().find(needle)
                if key in seen or found < 0 or len(evidence) >= MAX_CITATIONS:
                    continue
                seen.add(key)
                start = sentence.start + found
                evidence.append(Evidence(h, si, start, start + len(answer_text)))
        return evidence


def _window(
    anchors: list[tuple[int, str]],
    span: list[int],
    tokens: list,
    weight: dict[str, float],
    total: float,
    before_counts_double: bool,
) -> float:
    """Question terms in the sentence, each counted by how close it sits to the candidate.

    For people, words before the name and across a comma count at double distance: English appositives
    put the role after the name ("Go Mia, CEO of Witches Co."), so those words belong to the previous name.
    """
    closest: dict[str, float] = {}
    for position, term in anchors:
        if position in span:
            continue
        distance = min(abs(position - s) for s in span)
        between = tokens[position + 1 : span[0]] if position < span[0] else tokens[span[-1] + 1 : position]
        commas = sum(1 for t in between if t[2] == ",")
        if before_counts_double and position < span[0] and commas:
            distance *= 2  # in a list of "Name, role" items, the role before a comma belongs to the previous name
        distance += COMMA_TOKENS * commas
        closest[term] = max(closest.get(term, 0.0), 1 / (1 + distance / DECAY_TOKENS))
    return sum(weight[t] * c for t, c in closest.items()) / total


def _other_role(sentence: Sentence, span: list[int], label: str | None, q: Question) -> float:
    """1 when the question asks for a role ("who is the governor") and the name beside it has another one."""
    if label != "PERSON" or q.root not in ROLE_NOUNS:
        return 0.0
    beside = [sentence.tokens[i][2] for i in (span[0] - 1, span[-1] + 1, span[-1] + 2) if 0 <= i < len(sentence.tokens)]
    roles = [lemma for lemma in beside if lemma in ROLE_NOUNS]
    return 1.0 if roles and not any(r in q.terms for r in roles) else 0.0


def _head_fit(sentence: Sentence, span: list[int], span_terms: set[str], q: Question) -> float:
    """Does the candidate name the kind of thing asked for?

    "Which techno valley" → a span containing "valley"; "how many zones" → a number followed by "zones".
    """
    if not q.head:
        return 0.0
    if q.kind in ("count", "amount", "money"):
        following = [t[2] for t in sentence.tokens[span[-1] + 1 : span[-1] + 9] if t[3]][:5]
        if not following:
            return 0.0
        return 1.0 if q.head & set(following) else -1.0
    return 1.0 if _span_head(sentence, span) == q.root else 0.0


def _span_head(sentence: Sentence, span: list[int]) -> str | None:
    """The noun a phrase is about: the last content word, before any "of" ("Ministry of Science" → ministry)."""
    words = [sentence.tokens[i] for i in span]
    cut = next((n for n, t in enumerate(words) if t[2] == "of"), len(words))
    content = [t[2] for t in words[:cut] if t[3]]
    return content[-1] if content else None


def _neighbour_lemmas(chunk: Chunk, index: int) -> set[str]:
    """The sentence before often names the subject that the answer sentence calls 'it' or 'the city'."""
    if index == 0:
        return set()
    return {t[2] for t in chunk.sentences[index - 1].tokens}


def _candidates(chunk: Chunk, entities: list[tuple[str, int, int]], sentence: Sentence, q: Question):
    """Entities, then noun phrases, in the sentence: each that could be the kind of answer asked for."""
    inside = lambda s, e: sentence.start <= s and e <= sentence.end  # noqa: E731
    for label, start, end in entities:
        if inside(start, end) and q.type_fit(label) > 0:
            yield start, end, label
    if q.type_fit(None) > 0:
        for start, end in chunk.phrases:
            if inside(start, end):
                yield start, end, None
