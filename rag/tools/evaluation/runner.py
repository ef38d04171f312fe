"""Run one configuration (answerer × retrieval × k) over an eval set and score every question."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tqdm import tqdm

from rag.contracts import Result
from rag.tools.evaluation import metrics
from rag.tools.evaluation.dataset import Example
from rag.pipeline import Pipeline

RECALL_KS = (1, 3, 5, 10)
CORRECT_F1 = 0.5  # an answer with at least this token F1 counts as correct (for citation recall)


@dataclass(frozen=True)
class Config:
    answerer: str
    retrieval: str
    k: int

    @property
    def name(self) -> str:
        return f"{self.answerer}+{self.retrieval}@{self.k}"


def run_config(pipeline: Pipeline, examples: list[Example], config: Config, progress: bool = True) -> dict:
    predictions = []
    started = time.perf_counter()
    for example in tqdm(examples, desc=config.name, unit="q", disable=not progress):
        result = pipeline.ask(example.question, config.k, config.answerer, config.retrieval, depth=max(RECALL_KS))
        predictions.append(_score(example, config, result))
    elapsed = time.perf_counter() - started
    splits = sorted({p["split"] for p in predictions if p["split"]})
    return {"config": config.name, "answerer": config.answerer, "retrieval": config.retrieval, "k": config.k,
            "metrics": summarise(predictions, elapsed), "intervals": intervals(predictions),
            "splits": {s: summarise([p for p in predictions if p["split"] == s], elapsed) for s in splits}
            if len(splits) > 1 else {},
            "predictions": predictions}


HEADLINE = ("f1", "em", "abstention_accuracy", "false_abstention_rate", "citation_precision", "citation_recall")


def intervals(predictions: list[dict], resamples: int = 1000, seed: int = 13) -> dict[str, tuple[float, float]]:
    """95% bootstrap intervals of the headline metrics, resampling questions: on about 100 questions a
    difference of a few points is often within them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in HEADLINE}
    for _ in range(resamples):
        sample = [predictions[i] for i in rng.integers(0, len(predictions), len(predictions))]
        scored = summarise(sample, 0.0, timings=False)
        for name in HEADLINE:
            draws[name].append(scored[name])
    return {name: (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))
            for name, values in draws.items()}


def _score(example: Example, config: Config, result: Result) -> dict:
    prediction, retrieved_docs = result.text, result.retrieved
    quotes = [c.quote for c in result.citations]
    row = {
        "config": config.name, "id": example.id, "split": example.split, "question": example.question,
        "answerable": example.answerable, "gold_answers": example.answers, "gold_doc_ids": example.doc_ids,
        "prediction": prediction, "answer": result.answer, "abstained": result.abstained, "reason": result.reason,
        "confidence": result.confidence, "score": round(result.score, 4),
        "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "quote": c.quote} for c in result.citations],
        "retrieved_doc_ids": retrieved_docs,
        "timings_ms": result.timings_ms,
    }
    if example.answerable:
        row["em"] = metrics.exact_match(prediction, example.answers)
        row["f1"] = metrics.token_f1(prediction, example.answers)
        row["correct"] = row["f1"] >= CORRECT_F1
        row["retrieval"] = {f"recall@{k}": metrics.recall_at_k(retrieved_docs, example.doc_ids, k) for k in RECALL_KS}
        row["retrieval"]["rr"] = metrics.reciprocal_rank(retrieved_docs, example.doc_ids)
        row["retrieval"]["ndcg@10"] = metrics.ndcg_at_k(retrieved_docs, example.doc_ids, 10)
    else:
        row["correct"] = result.abstained
    row["supported_citations"] = [metrics.passage_supports(q, example.answers) for q in quotes]
    return row


def summarise(predictions: list[dict], elapsed: float, timings: bool = True) -> dict:
    answerable = [p for p in predictions if p["answerable"]]
    mean = lambda values: sum(values) / len(values) if values else 0.0  # noqa: E731
    summary = {"questions": len(predictions), "answerable": len(answerable)}
    for key in [f"recall@{k}" for k in RECALL_KS] + ["ndcg@10"]:
        summary[key] = mean([p["retrieval"][key] for p in answerable])
    summary["mrr"] = mean([p["retrieval"]["rr"] for p in answerable])
    summary["em"] = mean([p["em"] for p in answerable])
    summary["f1"] = mean([p["f1"] for p in answerable])
    # SQuAD 2.0 scores over every question: an unanswerable one scores 1 when the answer abstains.
    summary["squad2_em"] = mean([p["em"] if p["answerable"] else float(p["abstained"]) for p in predictions])
    summary["squad2_f1"] = mean([p["f1"] if p["answerable"] else float(p["abstained"]) for p in predictions])
    cited = [[c["quote"] for c in p["citations"]] for p in predictions]
    gold = [p["gold_answers"] for p in predictions]
    summary["citation_precision"] = metrics.citation_precision(cited, gold)
    summary["citation_recall"] = metrics.citation_recall(
        cited, gold, [p["answerable"] and p["correct"] for p in predictions]
    )
    summary |= metrics.abstention_rates([p["abstained"] for p in predictions], [p["answerable"] for p in predictions])
    # The two tiers of answers: confident ones, and ones marked unsure (which count as answers above).
    given = [p for p in predictions if not p["abstained"]]
    summary["low_share"] = mean([float(p["confidence"] == "low") for p in given])
    for tier in ("high", "low"):
        summary[f"{tier}_f1"] = mean([p["f1"] for p in answerable if p["confidence"] == tier])
    if timings:
        for stage in ("retrieve", "answer", "total"):
            for name, value in metrics.percentiles([p["timings_ms"][stage] for p in predictions]).items():
                summary[f"{stage}_ms_{name}"] = value
        summary["questions_per_second"] = len(predictions) / elapsed if elapsed else 0.0
    return summary
