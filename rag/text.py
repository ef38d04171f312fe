"""Text helpers shared by the stages."""

from __future__ import annotations

TRIM_LEFT = ("the ", "The ", "a ", "an ", '"', "'", "“", "‘", "▲")
TRIM_RIGHT = ('"', "'", "”", "’", ",", ".", ";", ":", "▲", " ")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop leading articles/quotes and trailing punctuation so an answer span reads cleanly."""
    for quote in ("”", "“"):  # a curly quote inside an entity ends it: 'C9 League”-China’s version'
        cut = text.find(quote, start + 1, end)
        if cut > 0:
            end = cut
    changed = True
    while changed and start < end:
        changed = False
        for prefix in TRIM_LEFT:
            if text.startswith(prefix, start) and start + len(prefix) < end:
                start += len(prefix)
                changed = True
        while end > start and text[end - 1] in "".join(TRIM_RIGHT):
            end -= 1
            changed = True
    return start, end
