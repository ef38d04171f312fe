"""Input rules for questions, k and document ids. Imports no model, so a bad input fails in milliseconds."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from rag.errors import RagError

MAX_QUESTION_CHARS = 2000
CONTROL = r"\x00-\x08\x0e-\x1f\x7f"  # control characters other than whitespace (tab, newlines, form feed)
SURROGATES = r"\ud800-\udfff"  # lone UTF-16 halves: not text, and tokenizers fail on them
# What validate_question accepts, as one regular expression, so the OpenAPI schema can state it. (Lone
# surrogates are refused too, but JSON Schema regexes cannot name them, so the description says so.)
QUESTION_PATTERN = rf"^\s*[^\s{CONTROL}](?:[^{CONTROL}]{{0,{MAX_QUESTION_CHARS - 2}}}[^\s{CONTROL}])?\s*$"
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # a file name: no separators, no "..", no hidden files


class Checked(str):
    """A question validate_question has passed. A request's question is checked once, where the error can name
    its field (the HTTP schema, the CLI); the pipeline, the Python API's entry, does not check it again."""


def validate_question(question: str) -> Checked:
    if isinstance(question, Checked):
        return question
    return _checked(question)


def _checked(question: str) -> Checked:
    question = (question or "").strip()
    if not question:
        raise RagError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise RagError(f"the question is longer than {MAX_QUESTION_CHARS} characters ({len(question)})")
    control = re.search(f"[{CONTROL}]", question)
    if control:
        raise RagError(f"the question contains a control character ({control.group()!r})")
    if re.search(f"[{SURROGATES}]", question):
        raise RagError("the question contains a lone UTF-16 surrogate, which is not text")
    return Checked(question)


def validate_k(k: int) -> int:
    if not 1 <= k <= 50:
        raise RagError(f"k must be between 1 and 50, not {k}")
    return k


def validate_doc_id(doc_id: str) -> str:
    if not DOC_ID.match(doc_id) or ".." in doc_id:
        raise RagError(f"invalid document id {doc_id!r}: use letters, digits, '.', '_' and '-'")
    return doc_id


def validate_date(value: str | date | None, name: str) -> date | None:
    """A `since` / `until` filter: a date, or a string starting YYYY-MM-DD."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise RagError(f"{name}: give a date as YYYY-MM-DD, not {value!r}") from None


def validate_period(since: date | None, until: date | None) -> None:
    """A `since` after `until` selects nothing: an error, not an empty search."""
    if since and until and since > until:
        raise RagError(f"since ({since}) is later than until ({until}): no article can match both")


def foreign_script(question: str) -> str | None:
    """The script most of the question's letters are written in, when that is not the Latin alphabet:
    the index and the reader know English only, so such a question gets a plain notice, not a guess."""
    letters = [c for c in question if c.isalpha()]
    foreign = [c for c in letters if not unicodedata.name(c, "").startswith("LATIN")]
    if not letters or len(foreign) * 2 <= len(letters):
        return None
    script = unicodedata.name(foreign[0], "UNKNOWN").split()[0]
    return {"CJK": "Chinese or Japanese (CJK)"}.get(script, script.title())
