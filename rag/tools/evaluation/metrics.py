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


def citation_precision(cited_passages: list[list[str]], answers: list[list[str]]) -> float:
    """Share of all shown citations, over all questions, whose passage supports a gold answer."""
    shown = [(p, a) for passages, a in zip(cited_passages, answers) for p in passages]
    return sum(passage_supports(p, a) for p, a in shown) / len(shown) if shown else 0.0


def citation_recall(cited_passages: list[list[str]], answers: list[list[str]], correct: list[bool]) -> float:
    """Share of correctly answered questions with at least one citation that supports the answer."""
    graded = [any(passage_supports(p, a) for p in passages) for passages, a, ok in zip(cited_passages, answers, correct) if ok]
    return sum(graded) / len(graded) if graded else 0.0


def abstention_rates(abstained: list[bool], answerable: list[bool]) -> dict[str, float]:
    unanswerable = [a for a, ok in zip(abstained, answerable) if not ok]
    answerable_abstained = [a for a, ok in zip(abstained, answerable) if ok]
    return {
        "abstention_accuracy": sum(unanswerable) / len(unanswerable) if unanswerable else 0.0,
        "false_abstention_rate": sum(answerable_abstained) / len(answerable_abstained) if answerable_abstained else 0.0,
    }


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}
