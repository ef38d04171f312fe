"""The `neural` reader: a trained span model reads the retrieved passages and returns a verbatim span.

The best span across all passages wins by start+end score; the reader abstains when that span does
not beat the passages' best "no answer" score by the margin calibrated on dev data. The span is cut
from the chunk text and mapped back to offsets in the original file, so `cite` can check and quote it.
"""

from __future__ import annotations

import math

from rag.contracts import Draft, Evidence, abstain
from rag.answer.spans import SpanModel
from rag.contracts import Chunk
from rag.text import trim_span
from rag.contracts import Hit


class NeuralAnswerer:
    name = "neural"

    def __init__(self, model: SpanModel):
        self.model = model

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        if not hits:
            return abstain("nothing was retrieved")
        span = self.model.best(question, [hit.chunk.text for hit in hits])
        if span is None:
            return abstain("the retrieved passages hold no text to read")
        confidence = 1 / (1 + math.exp(-(span.margin - self.model.threshold)))
        if span.margin <= self.model.threshold:
            return abstain("the reader found no answer in the retrieved passages", confidence)
        chunk = hits[span.passage].chunk
        sentence, start, end = locate(chunk, span.start, span.end)
        text = chunk.sentence_texts()[sentence]
        start, end = trim_span(text, start, end)
        if end <= start:
            return abstain("the reader's best span is only punctuation", confidence)
        offset = chunk.sentences[sentence].start
        return Draft(text=text[start:end], evidence=[Evidence(span.passage, sentence, offset + start, offset + end)],
                     confidence=confidence)


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
