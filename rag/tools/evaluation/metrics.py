"""Metric functions, each small enough to check by hand (see tests/test_metrics.py)."""

from __future__ import annotations

import math
import re
import string
from collections import Counter

import numpy as np

ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: list[str]) -> float:
    return float(any(normalize_answer(prediction) == normalize_answer(a) for a in answers))


def token_f1(prediction: str, answers: list[str]) -> float:
    def f1(gold: str) -> float:
        pred_tokens, gold_tokens = normalize_answer(prediction).split(), normalize_answer(gold).split()
        common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
        if common == 0:
            return 0.0
        precision, recall = common / len(pred_tokens), common / len(gold_tokens)
        return 2 * precision * recall / (precision + recall)

    return max((f1(a) for a in answers), default=0.0)


def squad2_scores(prediction: str, answers: list[str]) -> tuple[float, float]:
    """(EM, F1) as SQuAD 2.0 scores them: with no gold answer, only an empty prediction is right."""
    if not answers:
        return (float(not prediction),) * 2
    return exact_match(prediction, answers), token_f1(prediction, answers)


def recall_at_k(retrieved_docs: list[str], gold: list[str], k: int) -> float:
    """1 when any gold document is among the first k retrieved chunks' documents."""
    return float(any(doc in gold for doc in retrieved_docs[:k]))


def reciprocal_rank(retrieved_docs: list[str], gold: list[str]) -> float:
    return next((1.0 / rank for rank, doc in enumerate(retrieved_docs, start=1) if doc in gold), 0.0)


def ndcg_at_k(retrieved_docs: list[str], gold: list[str], k: int = 10) -> float:
    """Binary relevance over the ranked distinct documents, so repeated chunks of one document count once."""
    ranked = list(dict.fromkeys(retrieved_docs))[:k]
    dcg = sum(1.0 / math.log2(rank + 1) for rank, doc in enumerate(ranked, start=1) if doc in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(set(gold)), k) + 1))
    return dcg / ideal if ideal else 0.0


def passage_supports(passage: str, answers: list[str]) -> bool:
    """A citation supports an answer when its passage contains an acceptable form of it."""
    text = f" {normalize_answer(passage)} "
    return any(f" {normalize_answer(a)} " in text for a in answers if normalize_answer(a))


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def nugget_recall(answer: str, nuggets: list[list[str]]) -> float:
    """Share of an open question's key facts the answer holds: a fact counts when any of its terms is in the
    answer, both normalised as for F1."""
    if not nuggets:
        return 0.0
    text = f" {normalize_answer(answer)} "
    return sum(any(f" {normalize_answer(t)} " in text for t in terms if normalize_answer(t)) for terms in nuggets) / len(nuggets)


def sentence_support(answer: str, quotes: dict[int, str]) -> list[bool]:
    """For each sentence of an answer, whether the passages it cites hold it: its content words (numbers and
    names included) are all in the quoted sentences. A sentence citing nothing is unsupported."""
    from rag.cite import answer_sentences, content_words

    supported = []
    for text, marks in answer_sentences(answer):
        words = set(content_words(text.rstrip("…")))
        cited = set()
        for n in marks:
            cited |= set(content_words(quotes.get(n, "")))
        supported.append(bool(words) and bool(marks) and words <= cited)
    return supported
