"""Named backends (embedders, readers, retrieval modes, seq2seq runtimes, index types), chosen by a setting string.

Each kind has one `Registry`; a backend registers a factory under its name, and the factory does the
heavy imports, so listing or checking names imports nothing. An unknown name is one error listing the choices.
A backend whose packages come with an optional install (torch is most of an install's size, and answering
needs none of it) names them, and choosing it without them is one error saying what to install.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from rag.errors import RagError

TORCH = ("torch", "transformers")  # the `torch` extra: pip install 'rag-news[torch]'


def require(what: str, modules: tuple[str, ...], extra: str = "torch") -> None:
    """One clear error when an optional package is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise RagError(f"{what} needs {', '.join(missing)}, which this install leaves out: "
                       f"pip install 'rag-news[{extra}]' (or make install)")


class Registry:
    """The backends of one kind (embedder, store, answerer…) by name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}
        self._needs: dict[str, tuple[str, ...]] = {}

    def register(self, name: str, needs: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """A decorator registering a backend's factory.

        Args:
            name: what the setting string says. needs: modules of an optional extra the backend imports.

        Returns:
            The decorator; it returns the factory unchanged.
        """
        def add(factory: Callable[..., Any]) -> Callable[..., Any]:
            self._factories[name] = factory
            self._needs[name] = needs
            return factory

        return add

    def names(self) -> tuple[str, ...]:
        return tuple(self._factories)

    def check(self, name: str) -> str:
        """Returns: the name, when it is registered. Raises: RagError listing the choices, when not."""
        if name not in self._factories:
            raise RagError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._factories)}")
        return name

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Returns: what the named factory makes from the arguments. Raises: RagError for an unknown name or a
        missing optional package."""
        require(f"the {self.kind} {name!r}", self._needs[self.check(name)])
        return self._factories[name](*args, **kwargs)
