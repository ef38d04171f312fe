"""What an answer backend hands to the citation stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Evidence:
    hit: int  # index into the retrieved hits
    sentence: int  # index into that hit's chunk sentences
    answer_start: int | None = None  # the answer span in the original file, when it is verbatim there
    answer_end: int | None = None


@dataclass
class Draft:
    text: str  # the answer without citation markers; "" when abstaining
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0
    abstain_reason: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. passages dropped to fit a model's input

    @property
    def abstained(self) -> bool:
        return self.abstain_reason is not None


def abstain(reason: str, confidence: float = 0.0) -> Draft:
    return Draft(text="", confidence=confidence, abstain_reason=reason)
