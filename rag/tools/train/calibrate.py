"""`rag calibrate-reader`: choose when the neural reader answers, answers as unsure, or abstains.

The reader sees retrieved passages, not the gold paragraph, so it is calibrated in that setting: every
question of a dev set is asked through the product's own retrieval, and the reader's proposals are
kept with their signals (neural/Reading). From them, on the dev questions only:

1. the weight of the kind check among the proposed spans, by F1 when always answering;
2. a logistic scorer over the signals (answerable or not);
3. `low`, the score under which it abstains: the lowest that still abstains on `min_abstention` of the
   unanswerable questions (a confident wrong answer is the worst outcome, a refusal of what the articles
   say the next: the lowest such bar refuses the fewest);
4. `high`, the score from which answers were right (F1 >= 0.5) at least `sure` of the time; answers
   between the two are marked unsure;
5. `not_mentioned`: retrieved passages covering less of the question's key terms than 95% of the
   answerable questions' did make the reason "not in the indexed articles".

Either data works: the project's eval format with a corpus folder and a split (news questions users
ask), or a SQuAD-format file whose paragraphs become the corpus.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm import tqdm

from rag.answer.spans import write_config
from rag.errors import RagError
from rag.tools.evaluation.dataset import Example, load_dataset
from rag.settings import Settings
from rag.tools.train.card import calibration_section

FIT_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0)
GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
GOOD_F1 = 0.5  # an answer with at least this token F1 counts as right


def check_dataset(dataset: Path, source: Path, split: str | None) -> list[Example]:
    """The questions of `split`, every line checked against the corpus before any model loads: a doc id that
    is no file of `source`, or an answer that is not in its article, is reported with its line number."""
    from rag.ingest.load import corpus_files, document_ids, file_text

    if not source.is_dir():
        raise RagError(f"corpus folder not found: {source}")
    examples = load_dataset(dataset, split)
    ids = {doc_id: path for path, doc_id in document_ids(corpus_files(source)).items()}
    texts: dict[str, str] = {}
    problems = []
    for example in examples:
        where = f"{dataset}, line {example.line}"
        unknown = [doc_id for doc_id in example.doc_ids if doc_id not in ids]
        if unknown:
            problems.append(f"{where}: no document {', '.join(map(repr, unknown))} in {source}")
            continue
        for doc_id in example.doc_ids:
            if doc_id not in texts:
                texts[doc_id] = file_text(ids[doc_id].name, ids[doc_id].read_bytes())
        if example.answerable and not any(a in texts[d] for a in example.answers for d in example.doc_ids):
            problems.append(f"{where}: no answer of {example.id!r} occurs in {', '.join(example.doc_ids)}")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise RagError(f"{len(problems)} calibration line(s) do not match the corpus{more}:\n  "
                       + "\n  ".join(problems[:10]))
    return examples


def corpus_index(source: Path, cache_dir: Path) -> Path:
    """An index folder of its own for a calibration corpus, kept in the cache between runs."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "calibration" / f"{source.name}-{digest}"


class Asked(NamedTuple):
    """Questions and the corpus they are asked of."""

    source: Path
    index: Path
    examples: list[Example]


def calibrate(settings: Settings, model: Path, dev: Asked, min_abstention: float, sure: float,
              guard: Asked | None = None, min_guard_f1: float = 0.0) -> dict:
    """Fit the decision on `dev`; with a `guard` set (SQuAD-format, through retrieval), `low` is also kept
    high enough that the guard's SQuAD 2.0 F1 stays at least `min_guard_f1`."""
    from rag.tools.evaluation.metrics import token_f1

    settings = settings.model_copy(update={"reader_model": model, "answerer": "neural"})
    readings = _read(settings, dev)
    answerable = np.array([e.answerable for e in dev.examples])

    def chosen_f1(examples: list[Example], readings: list, weight: float) -> np.ndarray:
        f1s = []
        for example, reading in zip(examples, readings):
            chosen = reading.chosen(weight)
            f1s.append(token_f1(chosen.draft.text, example.answers) if chosen and example.answerable else 0.0)
        return np.array(f1s)

    fit_weight = max(FIT_WEIGHTS, key=lambda w: (round(float(np.mean(chosen_f1(dev.examples, readings, w))), 6), -w))
    f1 = chosen_f1(dev.examples, readings, fit_weight)
    features = np.array([_features(reading, fit_weight) for reading in readings])
    scorer, decision = _fit(features, answerable)
    scores = scorer.predict_proba(features)[:, 1]
    keeps_guard = lambda low: True  # noqa: E731
    guard_scores = None
    if guard is not None:
        guard_readings = _read(settings, guard)
        guard_answerable = np.array([e.answerable for e in guard.examples])
        guard_f1 = chosen_f1(guard.examples, guard_readings, fit_weight)
        guard_scores = scorer.predict_proba(np.array([_features(r, fit_weight) for r in guard_readings]))[:, 1]
        keeps_guard = lambda low: _squad2_f1(guard_scores >= low, guard_f1, guard_answerable) >= min_guard_f1  # noqa: E731
    low = _lowest_abstaining(scores, answerable, min_abstention, keeps_guard)
    high = _first_sure(scores, f1, answerable, low, sure)
    mentioned = features[answerable, 3]
    decision |= {"low": low, "high": high, "fit_weight": fit_weight,
                 "not_mentioned": round(float(np.percentile(mentioned, 5)), 4) if mentioned.size else 0.0}
    write_config(model, json.loads((model / "reader.json").read_text()) | {"decision": decision})
    result = {"command": " ".join(["rag", *sys.argv[1:]]), "questions": len(dev.examples), "k": settings.k,
              "min_abstention": min_abstention, "sure": sure, "decision": decision,
              "dev_scores": _summary(scores, f1, answerable, low, high)}
    if guard is not None:
        result["guard"] = {"questions": len(guard.examples), "min_squad2_f1": min_guard_f1,
                           "squad2_f1": round(_squad2_f1(guard_scores >= low, guard_f1, guard_answerable), 4)}
    (model / "calibration.json").write_text(json.dumps(result, indent=2))
    card = model / "MODEL_CARD.md"
    if card.exists():
        card.write_text(with_calibration(card.read_text(), calibration_section(result)))
    return result


def _read(settings: Settings, asked: Asked) -> list:
    from rag.pipeline import Pipeline

    pipeline = Pipeline.open(settings.model_copy(update={"source_dir": asked.source, "index_dir": asked.index}))
    reader = pipeline.answerer("neural")
    return [reader.read(e.question, pipeline.search(e.question))
            for e in tqdm(asked.examples, desc=f"Reading {asked.source.name}", unit="q")]


def _squad2_f1(answered: np.ndarray, f1: np.ndarray, answerable: np.ndarray) -> float:
    return float(np.mean(np.where(answerable, np.where(answered, f1, 0.0), ~answered)))


def _features(reading, fit_weight: float) -> list[float]:
    from rag.answer.neural import FEATURES

    chosen = reading.chosen(fit_weight)
    if chosen is None:  # nothing to read: scored as unanswerable as it gets
        return [-20.0, 0.0, 0.0, reading.mentioned]
    values = chosen.features(reading.mentioned)
    return [values[name] for name in FEATURES]


def _fit(features: np.ndarray, answerable: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    from rag.answer.neural import FEATURES

    if answerable.all() or not answerable.any():
        raise RagError("calibration needs both answerable and unanswerable questions")
    model = LogisticRegression(C=1.0, max_iter=5000).fit(features, answerable)
    decision = {"weights": {name: round(float(w), 5) for name, w in zip(FEATURES, model.coef_[0])},
                "bias": round(float(model.intercept_[0]), 5)}
    return model, decision


def _lowest_abstaining(scores: np.ndarray, answerable: np.ndarray, min_abstention: float, keeps_guard) -> float:
    for low in GRID:
        if np.mean(scores[~answerable] < low) >= min_abstention and keeps_guard(float(low)):
            return float(low)
    raise RagError(f"no score bar abstains on {min_abstention:.0%} of the unanswerable dev questions while keeping "
                   "the guard's SQuAD 2.0 F1; lower --min-abstention or --min-squad-f1")


def _first_sure(scores: np.ndarray, f1: np.ndarray, answerable: np.ndarray, low: float, sure: float) -> float:
    """The lowest bar from which the answers given (to any question) were right at least `sure` of the time."""
    for high in GRID[GRID >= low]:
        given = scores >= high
        if given.any() and np.mean((f1 >= GOOD_F1) & answerable & given) / np.mean(given) >= sure:
            return float(high)
    return 1.0


def _summary(scores: np.ndarray, f1: np.ndarray, answerable: np.ndarray, low: float, high: float) -> dict:
    answered = scores >= low
    unsure = answered & (scores < high)
    mean = lambda values: round(float(np.mean(values)), 4) if values.size else 0.0  # noqa: E731
    return {"answerable_f1": mean(np.where(answered, f1, 0.0)[answerable]),
            "abstention_accuracy": mean(~answered[~answerable]),
            "false_abstention_rate": mean(~answered[answerable]),
            "low_share": mean(unsure[answered]),
            "high_f1": mean(f1[answered & ~unsure & answerable]), "low_f1": mean(f1[unsure & answerable]),
            "questions": int(answerable.size), "answerable": int(answerable.sum())}


def with_calibration(card: str, section: str) -> str:
    """The card with its calibration section replaced (or added), keeping every section after it."""
    before, found, rest = card.partition("\n## Calibration")
    after = rest[rest.find("\n## "):] if found and "\n## " in rest else ""
    return before.rstrip() + "\n" + section + after
