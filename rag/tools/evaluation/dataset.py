"""Read and check an eval set (JSON Lines); a bad line is reported by number and field before anything runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import rag
from rag.errors import RagError

FIELDS = {"id": str, "question": str, "answers": list, "doc_ids": list, "answerable": bool}
OPEN_FIELDS = {"id": str, "question": str, "nuggets": list, "doc_ids": list, "answerable": bool}


@dataclass(frozen=True)
class Example:
    id: str
    question: str
    answers: list[str]
    doc_ids: list[str]
    answerable: bool
    split: str | None = None
    line: int = 0  # in its file, for messages
    kind: str = "short"  # "open": a few sentences answer it, scored by its nuggets
    nuggets: tuple[tuple[str, ...], ...] = ()  # an open question's key facts, each as the terms that show it
    style: str | None = None  # an open question's kind: summary, about, event, why, how, list, compare


def _check(row: object, where: str, line: int = 0) -> Example:
    if not isinstance(row, dict):
        raise RagError(f"{where}: expected a JSON object")
    if row.get("kind") == "open":
        return _check_open(row, where, line)
    for name, kind in FIELDS.items():
        if name not in row:
            raise RagError(f"{where}: missing field {name!r}")
        if not isinstance(row[name], kind):
            raise RagError(f"{where}: field {name!r} must be {kind.__name__}, not {type(row[name]).__name__}")
    for name in ("answers", "doc_ids"):
        if not all(isinstance(item, str) and item.strip() for item in row[name]):
            raise RagError(f"{where}: field {name!r} must hold non-empty strings")
    if not row["question"].strip():
        raise RagError(f"{where}: field 'question' is empty")
    if row["answerable"] and not row["answers"]:
        raise RagError(f"{where}: field 'answers' is empty for an answerable question")
    if not row["answerable"] and (row["answers"] or row["doc_ids"]):
        raise RagError(f"{where}: an unanswerable question must have empty 'answers' and 'doc_ids'")
    split = row.get("split")
    if split is not None and not isinstance(split, str):
        raise RagError(f"{where}: field 'split' must be str")
    return Example(row["id"], row["question"], row["answers"], row["doc_ids"], row["answerable"], split, line)


def _check_open(row: dict, where: str, line: int) -> Example:
    """An open question (`"kind": "open"`): nuggets of key facts instead of answers (news-dev/SOURCE.md)."""
    for name, kind in OPEN_FIELDS.items():
        if not isinstance(row.get(name), kind):
            raise RagError(f"{where}: field {name!r} must be {kind.__name__}" if name in row
                           else f"{where}: missing field {name!r}")
    nuggets = []
    for n, nugget in enumerate(row["nuggets"]):
        terms = nugget.get("terms") if isinstance(nugget, dict) else None
        if not (isinstance(terms, list) and terms and all(isinstance(t, str) and t.strip() for t in terms)):
            raise RagError(f"{where}: nugget {n} must be an object with a non-empty list of 'terms'")
        nuggets.append(tuple(terms))
    if not row["question"].strip():
        raise RagError(f"{where}: field 'question' is empty")
    if row["answerable"] != bool(nuggets):
        raise RagError(f"{where}: an answerable open question needs nuggets, an unanswerable one none")
    split = row.get("split")
    if split is not None and not isinstance(split, str):
        raise RagError(f"{where}: field 'split' must be str")
    return Example(row["id"], row["question"], [], row["doc_ids"], row["answerable"], split, line, "open",
                   tuple(nuggets), row.get("style"))


PACKAGED = Path(rag.__file__).resolve().parent.parent / "eval" / "questions.jsonl"  # the project's, beside rag/


def eval_set(path: Path | None) -> Path:
    """The file given; else ./eval/questions.jsonl; else the project's own eval set, from whatever folder."""
    if path is not None:
        return path
    local = Path("eval/questions.jsonl")
    return local if local.is_file() else PACKAGED


def load_dataset(path: Path, split: str | None = None) -> list[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise RagError(f"dataset not found: {path}") from None
    except UnicodeDecodeError:
        raise RagError(f"{path}: not valid UTF-8") from None
    examples, seen = [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RagError(f"{where}: invalid JSON ({exc.msg})") from None
        example = _check(row, where, number)
        if example.id in seen:
            raise RagError(f"{where}: field 'id' repeats {example.id!r}")
        seen.add(example.id)
        examples.append(example)
    if split is not None:
        examples = [e for e in examples if e.split == split]
    if not examples:
        raise RagError(f"{path}: no questions" + (f" in split {split!r}" if split else ""))
    return examples
