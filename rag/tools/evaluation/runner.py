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
    form: str = "auto"  # "span" or "sentences" answers every question in that form

    @property
    def name(self) -> str:
        return f"{self.answerer}+{self.retrieval}@{self.k}" + ("" if self.form == "auto" else f"/{self.form}")


def run_config(pipeline: Pipeline, examples: list[Example], config: Config, progress: bool = True) -> dict:
    predictions = []
    started = time.perf_counter()
    for example in tqdm(examples, desc=config.name, unit="q", disable=not progress):
        result = pipeline.ask(example.question, config.k, config.answerer, config.retrieval, depth=max(RECALL_KS),
                              form=config.form)
        predictions.append(_score(example, config, result))
    elapsed = time.perf_counter() - started
    splits = sorted({p["split"] for p in predictions if p["split"]})
    return {"config": config.name, "answerer": config.answerer, "retrieval": config.retrieval, "k": config.k,
            "form": config.form,
            "metrics": summarise(predictions, elapsed), "intervals": intervals(predictions),
            "splits": {s: summarise([p for p in predictions if p["split"] == s], elapsed) for s in splits}
            if len(splits) > 1 else {},
            "predictions": predictions}


def _short(p: dict) -> bool:
    return p.get("kind", "short") == "short"


def _open(p: dict) -> bool:
    return p.get("kind") == "open"


# The headline metrics, each a ratio of per-question sums: (numerator, denominator) of one prediction. Means
# over a subset (F1 over answerable questions) have denominator 1 in the subset and 0 outside it. Written once,
# they give both the metric and its bootstrap interval (resampling per-question pairs with numpy).
RATIOS = {
    "f1": lambda p: (p["f1"], 1) if _short(p) and p["answerable"] else (0, 0),
    "em": lambda p: (p["em"], 1) if _short(p) and p["answerable"] else (0, 0),
    "abstention_accuracy": lambda p: (p["abstained"], 1) if _short(p) and not p["answerable"] else (0, 0),
    "false_abstention_rate": lambda p: (p["abstained"], 1) if _short(p) and p["answerable"] else (0, 0),
    "citation_precision": lambda p: (sum(p["supported_citations"]), len(p["supported_citations"])) if _short(p)
    else (0, 0),
    "citation_recall": lambda p: (any(p["supported_citations"]), 1) if _short(p) and p["answerable"] and p["correct"]
    else (0, 0),
    "nugget_recall": lambda p: (p["nugget_recall"], 1) if _open(p) and p["answerable"] else (0, 0),
    "citation_support": lambda p: (sum(p["sentence_support"]), len(p["sentence_support"])) if _open(p) else (0, 0),
    "open_abstention_accuracy": lambda p: (p["abstained"], 1) if _open(p) and not p["answerable"] else (0, 0),
    "open_false_abstention_rate": lambda p: (p["abstained"], 1) if _open(p) and p["answerable"] else (0, 0),
}
OPEN_METRICS = ("nugget_recall", "citation_support", "open_abstention_accuracy", "open_false_abstention_rate",
                "open_words_p50")


def ratio_arrays(predictions: list[dict]) -> dict[str, tuple]:
    import numpy as np

    pairs = {name: np.array([ratio(p) for p in predictions], dtype=float).reshape(-1, 2)
             for name, ratio in RATIOS.items()}
    return {name: (pair[:, 0], pair[:, 1]) for name, pair in pairs.items()}


def intervals(predictions: list[dict], resamples: int = 1000, seed: int = 13) -> dict[str, tuple[float, float]]:
    """95% bootstrap intervals of the headline metrics, resampling questions: on about 100 questions a
    difference of a few points is often within them. Milliseconds: one index matrix for all metrics."""
    import numpy as np

    if not predictions:
        return {}
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(predictions), (resamples, len(predictions)))
    found = {}
    for name, (numerator, denominator) in ratio_arrays(predictions).items():
        if not denominator.any():
            continue
        totals = denominator[draws].sum(axis=1)
        values = np.divide(numerator[draws].sum(axis=1), totals, out=np.zeros(resamples), where=totals > 0)
        found[name] = (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))
    return found


def _score(example: Example, config: Config, result: Result) -> dict:
    prediction, retrieved_docs = result.text, result.retrieved
    quotes = [c.quote for c in result.citations]
    row = {
        "config": config.name, "id": example.id, "split": example.split, "question": example.question,
        "kind": example.kind, "form": result.form,
        "answerable": example.answerable, "gold_answers": example.answers, "gold_doc_ids": example.doc_ids,
        "prediction": prediction, "answer": result.answer, "abstained": result.abstained, "reason": result.reason,
        "confidence": result.confidence, "score": round(result.score, 4),
        "citations": [{"n": c.n, "doc_id": c.doc_id, "chunk_id": c.chunk_id, "quote": c.quote} for c in result.citations],
        "retrieved_doc_ids": retrieved_docs,
        "timings_ms": result.timings_ms,
    }
    if example.answerable:
        row["retrieval"] = {f"recall@{k}": metrics.recall_at_k(retrieved_docs, example.doc_ids, k) for k in RECALL_KS}
        row["retrieval"]["rr"] = metrics.reciprocal_rank(retrieved_docs, example.doc_ids)
        row["retrieval"]["ndcg@10"] = metrics.ndcg_at_k(retrieved_docs, example.doc_ids, 10)
    if example.kind == "open":
        nuggets = [list(terms) for terms in example.nuggets]
        row["gold_answers"] = [" / ".join(terms) for terms in nuggets]
        row["nugget_recall"] = 0.0 if result.abstained else metrics.nugget_recall(prediction, nuggets)
        row["sentence_support"] = ([] if result.abstained else
                                   metrics.sentence_support(result.answer, {c.n: c.quote for c in result.citations}))
        row["words"] = len(prediction.split())
        row["correct"] = row["nugget_recall"] >= CORRECT_F1 if example.answerable else result.abstained
        return row
    if example.answerable:
        row["em"] = metrics.exact_match(prediction, example.answers)
        row["f1"] = metrics.token_f1(prediction, example.answers)
        row["correct"] = row["f1"] >= CORRECT_F1
    else:
        row["correct"] = result.abstained
    row["supported_citations"] = [metrics.passage_supports(q, example.answers) for q in quotes]
    return row


def summarise(predictions: list[dict], elapsed: float, timings: bool = True) -> dict:
    mean = lambda values: sum(values) / len(values) if values else 0.0  # noqa: E731
    short = [p for p in predictions if _short(p)]
    answerable = [p for p in short if p["answerable"]]
    summary = {"questions": len(predictions), "answerable": len([p for p in predictions if p["answerable"]])}
    retrieved = [p for p in predictions if p["answerable"]]
    for key in [f"recall@{k}" for k in RECALL_KS] + ["ndcg@10"]:
        summary[key] = mean([p["retrieval"][key] for p in retrieved])
    summary["mrr"] = mean([p["retrieval"]["rr"] for p in retrieved])
    for name, (numerator, denominator) in ratio_arrays(predictions).items():
        summary[name] = float(numerator.sum() / denominator.sum()) if denominator.sum() else 0.0
    # SQuAD 2.0 scores over every short question: an unanswerable one scores 1 when the answer abstains.
    summary["squad2_em"] = mean([p["em"] if p["answerable"] else float(p["abstained"]) for p in short])
    summary["squad2_f1"] = mean([p["f1"] if p["answerable"] else float(p["abstained"]) for p in short])
    # The two tiers of answers: confident ones, and ones marked unsure (which count as answers above).
    given = [p for p in short if not p["abstained"]]
    summary["low_share"] = mean([float(p["confidence"] == "low") for p in given])
    for tier in ("high", "low"):
        summary[f"{tier}_f1"] = mean([p["f1"] for p in answerable if p["confidence"] == tier])
    opened = [p for p in predictions if _open(p)]
    if opened:
        import numpy as np

        words = [p["words"] for p in opened if not p["abstained"]]
        summary["open_words_p50"] = float(np.median(words)) if words else 0.0
    else:
        for name in OPEN_METRICS:
            summary.pop(name, None)
    if timings:
        for stage in ("retrieve", "answer", "total"):
            for name, value in metrics.percentiles([p["timings_ms"][stage] for p in predictions]).items():
                summary[f"{stage}_ms_{name}"] = value
        summary["questions_per_second"] = len(predictions) / elapsed if elapsed else 0.0
    return summary
