"""`rag calibrate-reader`: choose when the neural reader abstains, on dev data indexed as a corpus.

The reader sees retrieved passages, not the gold paragraph, so its no-answer margin is calibrated in
that setting: every dev question is asked through the product's own retrieval, and the margin and the
key-term coverage that maximise SQuAD 2.0 F1 while abstaining on at least `min_no_answer` of the
unanswerable questions are written into the model's reader.json. (A wrong answer given with confidence
is worse for a user than an honest "I don't know", which plain F1 weighs the same.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm import tqdm

from rag.settings import Settings
from rag.train.card import calibration_section
from rag.train.run import best_threshold, squad2_summary

COVERAGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def calibrate(settings: Settings, squad: Path, model: Path, limit: int = 0, min_no_answer: float = 0.0) -> dict:
    from rag.evaluation.paragraphs import squad_eval_set
    from rag.pipeline import Pipeline

    source, index, examples = squad_eval_set(squad, settings.cache_dir, limit)
    settings = settings.model_copy(update={"source_dir": source, "index_dir": index, "reader_model": model})
    pipeline = Pipeline.open(settings)
    reader = pipeline.answerer("neural")
    readings = []
    for example in tqdm(examples, desc="Calibrating", unit="q"):
        reading = reader.read(example.question, pipeline.search(example.question))
        text = "" if reading.draft.abstained else reading.draft.text
        readings.append((text, reading.margin if text else float("-inf"), reading.coverage, example.answers))
    best = None
    for floor in COVERAGES:
        rows = [(text, margin if coverage >= floor else float("-inf"), answers)
                for text, margin, coverage, answers in readings]
        threshold = best_threshold(rows, min_no_answer)
        summary = squad2_summary(rows, threshold)
        if best is None or summary["all_f1"] > best[2]["all_f1"]:
            best = (threshold, floor, summary)
    threshold, floor, summary = best
    config = json.loads((model / "reader.json").read_text())
    config |= {"null_threshold": round(threshold, 4), "min_coverage": floor}
    (model / "reader.json").write_text(json.dumps(config, indent=2))
    result = {"command": " ".join(["rag", *sys.argv[1:]]), "questions": len(readings), "k": settings.k,
              "min_no_answer": min_no_answer, "null_threshold": round(threshold, 4), "min_coverage": floor,
              "dev_corpus_scores": summary}
    (model / "calibration.json").write_text(json.dumps(result, indent=2))
    card = model / "MODEL_CARD.md"
    if card.exists():
        card.write_text(with_calibration(card.read_text(), calibration_section(result)))
    return result


def with_calibration(card: str, section: str) -> str:
    """The card with its calibration section replaced (or added), keeping every section after it."""
    before, found, rest = card.partition("\n## Calibration")
    after = rest[rest.find("\n## "):] if found and "\n## " in rest else ""
    return before.rstrip() + "\n" + section + after
