from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.chunk import Chunk


@dataclass
class Hit:
    position: int  # row of the chunk in the store
    chunk: Chunk
    score: float  # what the retriever ranked by (cosine for dense, fused rank score for hybrid)


class Retriever(Protocol):
    def search(self, query: str, k: int) -> list[Hit]: ...
