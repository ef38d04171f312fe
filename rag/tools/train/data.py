"""Training data for the reader, from SQuAD-format examples (rag/tools/evaluation/qa_lines.py reads them): long answers
dropped, unanswerable pairs added."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Literal

from rag.tools.evaluation.qa_lines import Example

NegativeSource = Literal["article", "bm25"]
def within_length(examples: list[Example], max_answer_words: int) -> list[Example]:
    """Drop answerable examples whose first answer is longer than a short answer: long gold spans
    (whole sentences in some sources) teach the model to over-extend every answer."""
    return [e for e in examples if not e.answerable or len(e.answers[0].split()) <= max_answer_words]


def with_negatives(examples: list[Example], share: float, seed: int, source: NegativeSource = "article") -> list[Example]:
    """Add unanswerable pairs: a question with a paragraph that lacks its answer, the near misses a
    retriever hands the reader (the data has few negatives). `source` "article": a random other
    paragraph of the same article; "bm25": the paragraph of the whole training set that BM25 ranks
    highest for the question, so that "no answer" is learned on what retrieval really returns."""
    rng = random.Random(seed)
    candidates = _by_bm25(examples) if source == "bm25" else _by_article(examples)
    negatives = []
    for example in examples:
        others = candidates(example) if example.answerable else []
        if not others or rng.random() >= share:
            continue
        context = rng.choice(others) if source == "article" else next((c for c in others if not _holds(c, example)), "")
        if not context or _holds(context, example):
            continue
        negatives.append(Example(f"{example.id}-neg", example.title, context, example.question))
    return examples + negatives


def _holds(context: str, example: Example) -> bool:
    return any(answer.lower() in context.lower() for answer in example.answers)


def _by_article(examples: list[Example]):
    by_title: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        if example.title and example.context not in by_title[example.title]:
            by_title[example.title].append(example.context)
    return lambda example: [c for c in by_title.get(example.title, []) if c != example.context]


def _by_bm25(examples: list[Example], depth: int = 5):
    from rag.index.sparse import Bm25, stems

    contexts = list(dict.fromkeys(e.context for e in examples))
    index = Bm25(stems(contexts))
    return lambda example: [contexts[p] for p, _ in index.search(example.question, depth + 1)
                            if contexts[p] != example.context][:depth]
