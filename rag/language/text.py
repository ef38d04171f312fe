"""Text helpers shared by the stages."""

from __future__ import annotations

import re

# Words that belong to an amount in the press we index: the rules' entity patterns and the neural
# reader's span ends share them.
SCALES = ("thousand", "million", "billion", "trillion")
CURRENCIES = ("won", "krw", "dollars", "usd", "yuan", "yen", "euros")
AREA_UNITS = ("㎡", "㎢", "km2", "m2")
_AMOUNT_TAIL = re.compile(
    r"(?P<number>(?:[.,]\d+)*)"  # the rest of a number cut at its separator: "46" of "46,200"
    rf"(?P<scale>\s(?:{'|'.join(SCALES)}))?"
    rf"(?P<unit>\s?(?:{'|'.join(AREA_UNITS)})|\s(?:{'|'.join(CURRENCIES)})\b)?",
    re.IGNORECASE,
)
_AMOUNT_END = re.compile(rf"(?:\d|\b(?:{'|'.join(SCALES)}))$", re.IGNORECASE)
_YEAR_END = re.compile(r"\b(?:1[6-9]|20)\d\d$")  # "in 2019 won the prize": a year, then a verb

TRIM_LEFT = (" ", "the ", "The ", "a ", "an ", '"', "'", "“", "‘", "▲")
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


def extend_amount(text: str, end: int) -> int:
    """Where a span ends inside an amount, the end of that amount: a span model trained on data whose
    answers leave out units tends to stop at "62.6 billion" of "62.6 billion KRW", or at "46" of "46,200㎡"."""
    if not _AMOUNT_END.search(text[:end]):
        return end
    tail = _AMOUNT_TAIL.match(text, end)
    year = _YEAR_END.search(text[: tail.end("number")]) and not tail.group("scale")
    return tail.end("number") if year else tail.end()
