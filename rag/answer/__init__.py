"""Answer backends (stage 6), chosen by name: `extractive` (offline default) or `seq2seq`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from spacy.language import Language

from rag.answer.draft import Draft
from rag.errors import RagError
from rag.index import Store
from rag.retrieve.hit import Hit
from rag.settings import Settings

ANSWERERS = ("extractive", "seq2seq")


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: list[Hit]) -> Draft: ...


def check_answerer(name: str) -> str:
    if name not in ANSWERERS:
        raise RagError(f"unknown answerer {name!r}; choose one of: {', '.join(ANSWERERS)}")
    return name


def make_answerer(name: str, settings: Settings, store: Store, nlp: Language, warn: Callable[[str], None]) -> Answerer:
    from rag.answer.extractive import ExtractiveAnswerer

    if check_answerer(name) == "seq2seq":
        from rag.answer.generators import ModelUnavailable, make_generator
        from rag.answer.seq2seq import Seq2SeqAnswerer
        from rag.answer.terms import TermWeights

        try:
            generator = make_generator(settings.seq2seq_runtime, settings.seq2seq_model, settings.cache_dir)
            return Seq2SeqAnswerer(generator, nlp, TermWeights(store.chunks), settings.min_support,
                                   settings.max_answer_tokens)
        except ModelUnavailable as exc:
            warn(f"{exc}; using the extractive reader instead.")
    return ExtractiveAnswerer(store, nlp, settings.min_support, settings.min_confidence)
