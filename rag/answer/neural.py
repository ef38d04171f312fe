"""The `neural` reader: a trained span model reads the retrieved passages and returns a verbatim span.

The model proposes its best spans across all passages (each measured against its own window's "no
answer" score); the one whose kind fits the question (a sum for "how much", a person for "who") is
preferred when it scores close to the best. Whether to answer is then decided from a handful of signals,
weighed by a small logistic scorer calibrated on news questions (`rag calibrate-reader --dataset`):

- the span's margin over "no answer" (the model's own doubt: "the articles don't say this detail"),
- how well the span's kind fits the question,
- the key-term coverage of the span's passage, and of all the retrieved passages together (a name or
  rare word of the question that no passage mentions: "not in the indexed articles").

Three outcomes: a confident answer, an answer marked unsure ("not sure, check the source"), or an
abstention that says which of the two reasons applies. A reader folder calibrated before the scorer
existed keeps its old rule (margin and coverage thresholds) and says how to recalibrate.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from functools import lru_cache

from rag.answer.question import Question, analyse
from rag.answer.sentences import SentenceRanker, window_hits, windows
from rag.answer.spans import Span, SpanModel
from rag.answer.terms import PassageCoverage
from rag.chunk import find_entities
from rag.contracts import Chunk, Draft, Evidence, Hit, abstain
from rag.language.nlp import ENTITY_PIPES, Language
from rag.language.text import extend_amount, trim_span

CANDIDATES = 5  # spans the model proposes; the kind check chooses among them
FEATURES = ("margin", "fit", "coverage", "mentioned")
NOT_MENTIONED = "not in the indexed articles"
NOT_SAID = "the articles don't say"
RECALIBRATE = ("note: the reader in {folder} was calibrated before answers were scored on news; it keeps its old "
               "abstention rule. Recalibrate it with: rag calibrate-reader --dataset QUESTIONS.jsonl --source "
               "CORPUS --split dev --model {folder}")
_WARNED: set = set()  # reader folders whose missing calibration was reported: once per process


@dataclass
class Candidate:
    draft: Draft
    margin: float  # span score over its window's no-answer score
    fit: float  # 1 when the span's kind is what the question asks for (or it asks for no kind), less otherwise
    coverage: float  # share of the question's key terms in the span's passage and its title

    def features(self, mentioned: float) -> dict[str, float]:
        return {"margin": self.margin, "fit": self.fit, "coverage": self.coverage, "mentioned": mentioned}


@dataclass
class Reading:
    """What the model proposed, before any abstention rule: what calibration looks at."""

    candidates: list[Candidate]  # best margin first; empty when there was nothing to read
    mentioned: float = 0.0  # share of the question's key terms found in any retrieved passage
    missing: list[str] = field(default_factory=list)  # key terms no retrieved passage mentions, rarest first
    reason: str = "nothing was retrieved"  # why there are no candidates
    asked: Question | None = None
    spans: list[Span] = field(default_factory=list)  # the model's best spans, before any became a candidate
    upto: int = 0  # passages read: hits[:upto]

    def chosen(self, fit_weight: float) -> Candidate | None:
        """The candidate a fitting kind lifts to the top: margin plus `fit_weight` times its fit."""
        return max(self.candidates, key=lambda c: c.margin + fit_weight * c.fit, default=None)


class Decision:
    """The calibrated rule in reader.json's "decision": a logistic score over FEATURES, answered with
    confidence from `high`, answered as unsure from `low`, abstained below; `mentioned` under
    `not_mentioned` makes the abstention's reason "not in the indexed articles"."""

    def __init__(self, config: dict):
        self.weights = {name: float(config["weights"][name]) for name in FEATURES}
        self.bias = float(config["bias"])
        self.high, self.low = float(config["high"]), float(config["low"])
        self.not_mentioned = float(config.get("not_mentioned", 0.0))
        self.fit_weight = float(config.get("fit_weight", 0.0))

    def score(self, features: dict[str, float]) -> float:
        z = self.bias + sum(self.weights[name] * features[name] for name in FEATURES)
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))


class NeuralAnswerer:
    name = "neural"

    def __init__(self, model: SpanModel, coverage: PassageCoverage, nlp: Language, first: int = 0,
                 ranker: SentenceRanker | None = None, windows: int = 0):
        self.model, self.coverage, self.nlp = model, coverage, nlp
        self.first = first  # passages read before deciding whether the rest are needed; 0: all at once
        self.ranker, self.windows = ranker, windows  # read only the best sentences' windows; 0: whole passages
        self.min_coverage = float(model.config.get("min_coverage", 0.0))
        decision = model.config.get("decision")
        self.decision = Decision(decision) if decision else None
        if self.decision is None and model.folder not in _WARNED:
            _WARNED.add(model.folder)
            print(RECALIBRATE.format(folder=model.folder), file=sys.stderr)

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        if self.windows and self.ranker is not None and hits:
            return self._answer_windows(question, hits)
        if self.decision is None:
            return self._threshold_rule(self.read(question, hits))
        # The first passages alone often give a confident answer; the rest are read only when they do not.
        first = self.first if 0 < self.first < len(hits) else len(hits)
        reading = self._read(question, hits, first, reach=self.decision.fit_weight)
        draft = self._decide(reading)
        if first < len(hits) and (draft.abstained or draft.unsure):
            draft = self._decide(self._read(question, hits, len(hits), reading, self.decision.fit_weight))
        return draft

    def _answer_windows(self, question: str, hits: list[Hit]) -> Draft:
        """Select, then read: the best sentences for the question, each with a neighbour either side, are all the
        model reads (about half the words of the passages); evidence points back into the passages."""
        asked = analyse(question, self.nlp)  # parsed once: for the ranker, the reading and the mention check
        chosen = windows(self.ranker.rank(question, asked.terms, hits), hits, self.windows)
        views = window_hits(hits, chosen)
        mentioned, missing = self.coverage.mentioned(asked.terms, [h.chunk for h in hits])  # all passages, not views
        reading = self._read(question, views, len(views), Reading([], mentioned, missing, asked=asked))
        draft = self._decide(reading) if self.decision else self._threshold_rule(reading)
        for evidence in draft.evidence:
            window = chosen[evidence.hit]
            evidence.hit, evidence.sentence = window.hit, window.first + evidence.sentence
        return draft

    def _decide(self, reading: Reading) -> Draft:
        chosen = reading.chosen(self.decision.fit_weight)
        if chosen is None:
            return abstain(reading.reason)
        score = self.decision.score(chosen.features(reading.mentioned))
        if score < self.decision.low:
            return abstain(self._why(reading), score)
        draft = chosen.draft
        draft.confidence, draft.unsure = score, score < self.decision.high
        return draft

    def _why(self, reading: Reading) -> str:
        if reading.mentioned < self.decision.not_mentioned and reading.missing:
            terms = ", ".join(repr(t) for t in reading.missing[:3])
            return f"{NOT_MENTIONED}: no retrieved passage mentions {terms}"
        return f"{NOT_SAID}: the passages about it hold no answer the reader trusts"

    def _threshold_rule(self, reading: Reading) -> Draft:
        """The rule of readers calibrated before the scorer: the best margin and its passage's coverage."""
        chosen = reading.chosen(0.0)
        if chosen is None:
            return abstain(reading.reason)
        confidence = 1 / (1 + math.exp(-(chosen.margin - self.model.threshold)))
        if chosen.margin <= self.model.threshold:
            return abstain(f"{NOT_SAID}: the reader found no answer in the retrieved passages", confidence)
        if chosen.coverage < self.min_coverage:
            return abstain(f"{NOT_MENTIONED}: the passage holding the reader's best answer is not about what the "
                           "question asks", confidence)
        chosen.draft.confidence = confidence
        return chosen.draft

    def read(self, question: str, hits: list[Hit]) -> Reading:
        """Every passage read, every candidate kept: what calibration scores."""
        return self._read(question, hits, len(hits))

    def _read(self, question: str, hits: list[Hit], upto: int, after: Reading | None = None,
              reach: float | None = None) -> Reading:
        """The candidates from passages hits[:upto]; `after`, a reading of the passages before these, is built
        on, not read again. With `reach` (the fit weight), spans that a full fit could not lift above the best
        candidate so far are left out: they cannot be chosen, and checking a span's kind (spaCy's entity
        recognizer on its sentence) is most of the cost here."""
        if not hits:
            return Reading([])
        asked = after.asked if after else analyse(question, self.nlp)
        begin = after.upto if after else 0
        spans = self.model.candidates(question, [hit.chunk.text for hit in hits[begin:upto]], CANDIDATES, offset=begin)
        spans = sorted((after.spans if after else []) + spans, key=lambda span: -span.margin)[:CANDIDATES]
        mentioned, missing = ((after.mentioned, after.missing) if after
                              else self.coverage.mentioned(asked.terms, [hit.chunk for hit in hits]))
        candidates: list[Candidate] = []
        best = -math.inf  # the best candidate's margin plus `reach` times its fit, so far
        for span in spans:
            if reach is not None and span.margin + reach < best:
                break
            chunk = hits[span.passage].chunk
            sentence, start, end = locate(chunk, span.start, span.end)
            text = chunk.sentence_texts()[sentence]
            start, end = trim_span(text, start, end)
            end = extend_amount(text, end)
            start, end = complete_entities(self.nlp, text, start, end)
            if end <= start:
                continue  # only punctuation
            offset = chunk.sentences[sentence].start
            draft = Draft(text=text[start:end],
                          evidence=[Evidence(span.passage, sentence, offset + start, offset + end)])
            candidates.append(Candidate(draft, span.margin, self._fit(asked, text, start, end),
                                        self.coverage(asked.terms, chunk)))
            if reach is not None:
                best = max(best, span.margin + reach * candidates[-1].fit)
        reason = "the passages hold no text" if not spans else "the reader's best spans are only punctuation"
        return Reading(candidates, mentioned, missing, reason, asked, spans, upto)

    def _fit(self, asked: Question, sentence: str, start: int, end: int) -> float:
        """How well the span's entity kind answers the question; 1 when the question asks for no kind."""
        if not asked.expected:
            return 1.0
        return asked.type_fit(span_label(self.nlp, sentence, start, end))


def complete_entities(nlp: Language, sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span that cuts a name or amount in two takes the whole of it: "Gwangju Institute" of "Gwangju
    Institute of Science and Technology", "Pangyo" of "Pangyo Techno Valley"."""
    if end <= start:
        return start, end
    for _, s, e in sentence_entities(nlp, sentence):
        if s < start < e or s < end < e:
            start, end = min(start, s), max(end, e)
    return start, end


def span_label(nlp: Language, sentence: str, start: int, end: int) -> str | None:
    """The entity label that overlaps the span most, in the span's sentence; None when none does."""
    best, label = 0, None
    for name, s, e in sentence_entities(nlp, sentence):
        overlap = min(end, e) - max(start, s)
        if overlap > best:
            best, label = overlap, name
    return label


@lru_cache(maxsize=4096)
def sentence_entities(nlp: Language, sentence: str) -> tuple[tuple[str, int, int], ...]:
    doc = nlp(sentence, disable=[p for p in nlp.pipe_names if p not in ENTITY_PIPES])
    return tuple(find_entities(doc, sentence, 0, {0}))


def locate(chunk: Chunk, start: int, end: int) -> tuple[int, int, int]:
    """(sentence index, start, end within that sentence) for a span of the chunk text. The chunk text
    is its sentences joined by single spaces; a span running into the next sentence is cut at the end
    of the first, since the file may hold other whitespace between them."""
    position = 0
    for index, sentence in enumerate(chunk.sentences):
        length = sentence.end - sentence.start
        if start < position + length or index == len(chunk.sentences) - 1:
            return index, max(0, start - position), max(0, min(end - position, length))
        position += length + 1
    raise ValueError("a chunk has at least one sentence")
