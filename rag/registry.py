"""Named backends (embedders, readers, retrieval modes, seq2seq runtimes, index types), chosen by a setting string.

Each kind has one `Registry`; a backend registers a factory under its name, and the factory does the
heavy imports, so listing or checking names imports nothing. An unknown name is one error listing the choices.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rag.errors import RagError


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(factory: Callable[..., Any]) -> Callable[..., Any]:
            self._factories[name] = factory
            return factory

        return add

    def names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def check(self, name: str) -> str:
        if name not in self._factories:
            raise RagError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._factories)}")
        return name

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._factories[self.check(name)](*args, **kwargs)
