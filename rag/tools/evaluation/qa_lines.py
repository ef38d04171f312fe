"""SQuAD-format JSON lines (id, title, context, question, answers, answer_starts), read for training the reader
and for evaluating it, checking every line.

A line that is not valid JSON, lacks a field, or whose answer is not at its stated offset is skipped
and reported with its line number; the command prints how many were skipped and stops only when
nothing usable is left.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError

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
