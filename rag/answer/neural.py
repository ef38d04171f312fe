"""The `neural` reader: a trained span model reads the retrieved passages and returns a verbatim span.

The best span across all passages wins by start+end score; the reader abstains when that span does
not beat the passages' best "no answer" score by the margin calibrated on dev data, or when the
passage it comes from covers too little of the question's key terms (the rules' support check, also
calibrated). The span is cut from the chunk text and mapped back to offsets in the original file, so
`cite` can check and quote it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rag.answer.spans import SpanModel
from rag.answer.terms import PassageCoverage
from rag.contracts import Chunk, Draft, Evidence, Hit, abstain
from rag.text import extend_amount, trim_span


@dataclass
class Reading:
    """The model's best span before any abstention rule: what calibration looks at."""

    draft: Draft  # never abstaining unless there was nothing to read
    margin: float  # span score over the passages' best no-answer score
    coverage: float  # share of the question's key terms in the span's passage and its title


class NeuralAnswerer:
    name = "neural"

    def __init__(self, model: SpanModel, coverage: PassageCoverage):
        self.model, self.coverage = model, coverage
        self.min_coverage = float(model.config.get("min_coverage", 0.0))

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        reading = self.read(question, hits)
        draft = reading.draft
        if draft.abstained:
            return draft
        draft.confidence = 1 / (1 + math.exp(-(reading.margin - self.model.threshold)))
        if reading.margin <= self.model.threshold:
            return abstain("the reader found no answer in the retrieved passages", draft.confidence)
        if reading.coverage < self.min_coverage:
            return abstain("the passage holding the reader's best answer is not about what the question asks",
                           draft.confidence)
        return draft

    def read(self, question: str, hits: list[Hit]) -> Reading:
        span = self.model.best(question, [hit.chunk.text for hit in hits]) if hits else None
        if span is None:
            return Reading(abstain("nothing was retrieved" if not hits else "the passages hold no text"), 0.0, 0.0)
        chunk = hits[span.passage].chunk
        sentence, start, end = locate(chunk, span.start, span.end)
        text = chunk.sentence_texts()[sentence]
        start, end = trim_span(text, start, end)
        end = extend_amount(text, end)
        coverage = self.coverage(self.coverage.terms(question), chunk)
        if end <= start:
            return Reading(abstain("the reader's best span is only punctuation"), span.margin, coverage)
        offset = chunk.sentences[sentence].start
        draft = Draft(text=text[start:end], evidence=[Evidence(span.passage, sentence, offset + start, offset + end)])
        return Reading(draft, span.margin, coverage)


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
