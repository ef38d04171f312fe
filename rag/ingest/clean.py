"""Tell article text apart from the scraped page around it.

Returns blocks with character offsets into the original file, so a citation can always point at
the exact characters it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Whole lines that are navigation, widgets or page furniture on the scraped news pages.
BOILERPLATE_LINES = {
    "본문 바로가기",
    "bar_progress",
    "text size",
    "close",
    "special coverage",
    "join us on social!",
    "top",
    "view original image",
    "today’s briefing",
    "today's briefing",
}
BOILERPLATE_PATTERNS = [
    re.compile(r"^©"),
    re.compile(r"all rights reserved\.?$", re.I),
    re.compile(r"produced with the assistance of ai translation", re.I),
]
IMAGE_MARKER = "view original image"
CAPTION_CREDIT = re.compile(r"\b(photo(graph)? (by|courtesy of)|provided by|courtesy of)\b[^.]*\.?$", re.I)
MAX_HEADLINE_CHARS = 200
TITLE_FALLBACK_CHARS = 100


@dataclass(frozen=True)
class Block:
    kind: str  # "title" | "subtitle" | "caption" | "body"
    start: int
    end: int


FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?:[^\n]*\n){0,40}?---[ \t]*(?:\r?\n|\Z)")


def front_matter_end(text: str) -> int:
    """Where a `---` block of `key: value` lines at the very start of a file ends; 0 when there is none."""
    match = FRONT_MATTER.match(text)
    return match.end() if match else 0


def _lines(text: str) -> list[tuple[int, int]]:
    """Non-empty lines as (start, end) offsets with surrounding whitespace and a Markdown heading's #s trimmed."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        stripped = line.strip()
        heading = re.match(r"#{1,6}\s+", stripped)
        if heading:
            stripped = stripped[heading.end():]
        if stripped:
            start = match.start() + (len(line) - len(line.lstrip())) + (heading.end() if heading else 0)
            spans.append((start, start + len(stripped)))
    return spans


def is_boilerplate(line: str) -> bool:
    low = line.strip().lower()
    return low in BOILERPLATE_LINES or any(p.search(line.strip()) for p in BOILERPLATE_PATTERNS)


def _looks_like_headline(line: str) -> bool:
    return len(line) <= MAX_HEADLINE_CHARS and not line.rstrip("\"'”’").endswith(".")


def clean(text: str) -> tuple[str, list[Block]]:
    """Split a scraped article into (title, blocks); captions are marked, never part of the body."""
    lines = _lines(text)
    kinds: list[str | None] = [None] * len(lines)
    matter = front_matter_end(text)
    for i, (s, e) in enumerate(lines):  # Markdown front matter (date, author…) is metadata, not article text
        if s < matter:
            kinds[i] = "drop"

    for i, (s, e) in enumerate(lines):
        line = text[s:e]
        if line.strip().lower() == IMAGE_MARKER:
            # The short lines right above an image marker are its caption.
            j = i - 1
            while j >= 0 and kinds[j] is None and _looks_like_headline(text[slice(*lines[j])]):
                kinds[j] = "caption"
                j -= 1
        if is_boilerplate(line):
            kinds[i] = "drop"

    title_index = next(
        (i for i, k in enumerate(kinds) if k is None and _looks_like_headline(text[slice(*lines[i])])), None
    )
    first_body = next((i for i, k in enumerate(kinds) if k is None and i != title_index), len(lines))
    if title_index is not None and title_index > first_body:
        title_index = None  # a short line after the story started is not the headline
    title = text[slice(*lines[title_index])] if title_index is not None else ""

    blocks: list[Block] = []
    in_header = title_index is not None
    for i, (s, e) in enumerate(lines):
        line = text[s:e]
        if kinds[i] == "drop":
            continue
        if i == title_index:
            blocks.append(Block("title", s, e))
            continue
        if kinds[i] == "caption" or _repeats_headline(line, title):
            kind = "caption"  # photo captions repeat the headline, then describe the picture
        elif CAPTION_CREDIT.search(line) and len(line) < 600:
            kind = "caption"
        elif in_header and i > (title_index or 0) and _looks_like_headline(line):
            kind = "subtitle"
        else:
            kind = "body"
        if kind in ("body", "caption"):
            in_header = kind != "body" and in_header
        blocks.append(Block(kind, s, e))

    if not any(b.kind == "body" for b in blocks):
        # Only "captions" that repeat the headline: prose that starts with the title's words, not captions.
        blocks = [Block("body", b.start, b.end) if _repeats_headline(text[b.start : b.end], title) else b
                  for b in blocks]
    if not title:
        title = _fallback_title(text, blocks)
    return title, blocks


def _repeats_headline(line: str, title: str) -> bool:
    """A caption repeats a whole headline; a one- or two-word title ("Warsaw") starts ordinary sentences."""
    return len(title.split()) >= 3 and line.startswith(title) and len(line) > len(title)


def _fallback_title(text: str, blocks: list[Block]) -> str:
    """Articles scraped without a headline get their first sentence, minus the reporter byline."""
    body = next((b for b in blocks if b.kind == "body"), None)
    if body is None:
        return ""
    first = re.sub(r"^\[[^\]]*\]\s*", "", text[body.start : body.end])
    first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    if len(first) > TITLE_FALLBACK_CHARS:
        first = first[:TITLE_FALLBACK_CHARS].rsplit(" ", 1)[0] + "…"
    return first
