"""Progress on long work: a tqdm bar on a terminal; in a log or a pipe, where a bar's carriage returns pile up
as garbage lines (the server's re-index log), a plain line at the start and one at each tenth of the way."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def tracked(items: Iterable[T], desc: str, unit: str, enabled: bool = True) -> Iterator[T]:
    """Args:
        items: what is worked through (its len() is the total when it has one). desc, unit: the bar's words.
        enabled: False shows nothing (a small job).
    """
    if not enabled:
        yield from items
        return
    if sys.stderr.isatty():
        yield from tqdm(items, desc=desc, unit=unit)
        return
    total = len(items) if hasattr(items, "__len__") else None
    print(f"{desc}: {total if total is not None else 'some'} {unit}(s)…", file=sys.stderr, flush=True)
    step = max(1, (total or 0) // 10)
    for done, item in enumerate(items, start=1):
        yield item
        if total and total >= 10 and done % step == 0 and done < total:
            print(f"{desc}: {done}/{total} {unit}(s)", file=sys.stderr, flush=True)
