"""Read SQuAD-format JSON lines for training and evaluating the reader, checking every line.

A line that is not valid JSON, lacks a field, or whose answer is not at its stated offset is skipped
and reported with its line number; the command prints how many were skipped and stops only when
nothing usable is left.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rag.errors import RagError

NegativeSource = Literal["article", "bm25"]
FIELDS = ("id", "context", "question", "answers", "answer_starts")


@dataclass
class Example:
    id: str
    title: str
    context: str
    question: str
    answers: list[str] = field(default_factory=list)  # empty when the context does not answer the question
    starts: list[int] = field(default_factory=list)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass
class Loaded:
    examples: list[Example]
    skipped: list[str]  # "line N: why", one per skipped line


def read_examples(path: Path, limit: int | None = None) -> Loaded:
    if not path.is_file():
        raise RagError(f"no data file at {path}")
    examples: list[Example] = []
    skipped: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                examples.append(_parse(line))
            except ValueError as exc:
                skipped.append(f"line {number}: {exc}")
            if limit and len(examples) >= limit:
                break
    if not examples:
        detail = f" ({skipped[0]})" if skipped else ""
        raise RagError(f"{path} holds no usable examples{detail}")
    return Loaded(examples, skipped)


def _parse(line: str) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    missing = [name for name in FIELDS if name not in row]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    context, answers, starts = row["context"], row["answers"], row["answer_starts"]
    if not isinstance(context, str) or not isinstance(row["question"], str) or not row["question"].strip():
        raise ValueError("context and question must be non-empty strings")
    if not isinstance(answers, list) or not isinstance(starts, list) or len(answers) != len(starts):
        raise ValueError("answers and answer_starts must be lists of the same length")
    if bool(row.get("is_impossible")) and answers:
        raise ValueError("is_impossible but has answers")
    for text, start in zip(answers, starts):
        if not isinstance(text, str) or not isinstance(start, int) or not text:
            raise ValueError("an answer must be a non-empty string with an integer start")
        if context[start : start + len(text)] != text:
            raise ValueError(f"answer {text[:40]!r} is not at offset {start}")
    return Example(str(row["id"]), str(row.get("title") or ""), context, row["question"], answers, starts)


def within_length(examples: list[Example], max_answer_words: int) -> list[Example]:
    """Drop answerable examples whose first answer is longer than a short answer: long gold spans
    (whole sentences in some sources) teach the model to over-extend every answer."""
    return [e for e in examples if not e.answerable or len(e.answers[0].split()) <= max_answer_words]


def with_negatives(examples: list[Example], share: float, seed: int, source: NegativeSource = "article") -> list[Example]:
    """Add unanswerable pairs: a question with a paragraph that lacks its answer, the near misses a
    retriever hands the reader (the data has few negatives). `source` "article": a random other
    paragraph of the same article; "bm25": the paragraph of the whole training set that BM25 ranks
    highest for the question, so that "no answer" is learned on what retrieval really returns."""
    rng = random.Random(seed)
    candidates = _by_bm25(examples) if source == "bm25" else _by_article(examples)
    negatives = []
    for example in examples:
        others = candidates(example) if example.answerable else []
        if not others or rng.random() >= share:
            continue
        context = rng.choice(others) if source == "article" else next((c for c in others if not _holds(c, example)), "")
        if not context or _holds(context, example):
            continue
        negatives.append(Example(f"{example.id}-neg", example.title, context, example.question))
    return examples + negatives


def _holds(context: str, example: Example) -> bool:
    return any(answer.lower() in context.lower() for answer in example.answers)


def _by_article(examples: list[Example]):
    by_title: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        if example.title and example.context not in by_title[example.title]:
            by_title[example.title].append(example.context)
    return lambda example: [c for c in by_title.get(example.title, []) if c != example.context]


def _by_bm25(examples: list[Example], depth: int = 5):
    from rag.index.sparse import Bm25, stems

    contexts = list(dict.fromkeys(e.context for e in examples))
    index = Bm25(stems(contexts))
    return lambda example: [contexts[p] for p, _ in index.search(example.question, depth + 1)
                            if contexts[p] != example.context][:depth]
