"""Answerers (stage 6), chosen by name. Short questions: `neural` (a trained span model), `rules` (entity and
phrase rules over spaCy annotations) or `seq2seq` (a local flan-t5 model). Open questions (rag/answer/route.py
tells them apart): `sentences` (a few sentences chosen from the passages) or `generate` (a local language model
rewrites those, each sentence checked against its source). Each reads the retrieved passages
and returns a `Draft`; only `cite` checks it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rag.contracts import Draft, Hit
from rag.registry import Registry

ANSWERERS = Registry("answerer")
OPEN_ANSWERERS = ("sentences", "generate")  # answerers that answer in sentences, for open questions
SERVER_ONLY = ("generate",)  # answerers that load a model of their own: a server's settings choose them, no client
PACKAGED_READER = Path(__file__).resolve().parent.parent / "models" / "reader"


class Answerer(Protocol):
    name: str

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        """Read the passages and answer from them, or abstain.

        Args:
            question: as asked (already checked). hits: the passages to read, best first.

        Returns:
            A draft whose evidence points into `hits`; `cite` checks it before anyone sees it.
        """


def check_answerer(name: str) -> str:
    return ANSWERERS.check(name)


@ANSWERERS.register("neural")
def _neural(settings, store, nlp, embedder) -> Answerer:
    from rag.answer.neural import NeuralAnswerer
    from rag.answer.spans import load_span_model
    from rag.answer.terms import PassageCoverage

    from rag.answer.sentences import READER, SentenceRanker

    model = load_span_model(Path(settings.reader_model or PACKAGED_READER), settings.reader_threads,
                            settings.reader_unverified)
    coverage = PassageCoverage(store.term_weights(), nlp)
    return NeuralAnswerer(model, coverage, nlp, settings.reader_first, SentenceRanker(embedder, coverage, READER),
                          settings.reader_windows)


@ANSWERERS.register("rules")
def _rules(settings, store, nlp, embedder) -> Answerer:
    from rag.answer.rules import RulesAnswerer

    return RulesAnswerer(store, nlp, settings.min_support, settings.min_confidence)


@ANSWERERS.register("seq2seq")
def _seq2seq(settings, store, nlp, embedder) -> Answerer:
    from rag.answer.generators import make_generator
    from rag.answer.seq2seq import Seq2SeqAnswerer
    from rag.answer.terms import PassageCoverage
    from rag.errors import ModelUnavailable, RagError

    try:
        generator = make_generator(settings.seq2seq_runtime, settings.seq2seq_model, settings.cache_dir)
    except ModelUnavailable as exc:
        raise RagError(f"{exc}; choose another answerer") from None
    coverage = PassageCoverage(store.term_weights(), nlp)
    return Seq2SeqAnswerer(generator, coverage, settings.min_support, settings.max_answer_tokens)


@ANSWERERS.register("sentences")
def _sentences(settings, store, nlp, embedder) -> Answerer:
    from rag.answer.extractive import SentencesAnswerer
    from rag.answer.sentences import SentenceRanker
    from rag.answer.terms import PassageCoverage

    coverage = PassageCoverage(store.term_weights(), nlp)
    return SentencesAnswerer(SentenceRanker(embedder, coverage), coverage, nlp, settings.max_words)


@ANSWERERS.register("generate")
def _generate(settings, store, nlp, embedder) -> Answerer:
    from rag.answer.generate import GenerateAnswerer, make_generator

    generator = make_generator(settings.generator_url, settings.generator_model, settings.reader_threads)
    return GenerateAnswerer(_sentences(settings, store, nlp, embedder), generator, settings.max_words * 2,
                            settings.generator_fallback)


def make_answerer(name: str, settings, store, nlp, embedder=None) -> Answerer:
    """Args:
        name: a registered answerer. settings: its options. store: the snapshot it reads statistics from.
        nlp: spaCy. embedder: the index's embedder (the `sentences` answerer ranks sentences with it).
    """
    return ANSWERERS.create(name, settings, store, nlp, embedder)
