"""The model card written next to a trained reader: what it was trained on, how, how long, how well."""

from __future__ import annotations

import json

SOURCES = """\
Training data: `train.jsonl` as described in its `SOURCE.md` (public SQuAD-format sets, read by path and
never copied into the project). Sources and licences used for training:

| source | licence |
|---|---|
| SQuAD 1.1 / 2.0 train paragraphs | CC BY-SA 4.0 |
| Natural Questions (QED release) | CC BY-SA 3.0 (Wikipedia text) |
| COVID-QA (deepset) | Apache-2.0 |
| SubjQA (Megagon Labs) | follows the underlying review corpora |
| HotpotQA sample | CC BY-SA 4.0 |
"""

NEGATIVES = {
    "article": "another paragraph of the same article that does not contain its answer",
    "bm25": "the paragraph of the training file that BM25 ranks highest for it among those without its answer",
}


def data_section(recipe: dict) -> str:
    where = NEGATIVES[recipe.get("negatives_from", "article")]
    perturbed = ""
    if recipe.get("perturbed"):
        perturbed = (f" More are made by copying {recipe['perturbed']} of the answerable questions with a named "
                     "entity, a number or a word (for its antonym) changed to one their paragraph lacks "
                     "(`perturbed`, see `rag/train/perturb.py`).")
    return f"""{SOURCES}
Unanswerable pairs are added by pairing a question with {where}
(`negatives` and `negatives_from` in the recipe).{perturbed} Dev data (`dev.jsonl`: SQuAD 2.0 / 1.1 dev articles,
none in train) picks the no-answer margin and is never trained on."""


def calibration_section(result: dict) -> str:
    rows = "\n".join(f"| {name} | {value} |" for name, value in result["dev_corpus_scores"].items())
    return f"""
## Calibration (dev data indexed as a corpus, asked through retrieval)

```
{result['command']}
```

{result['questions']} dev questions, top-{result['k']} passages: answer only when the best span beats its
window's no-answer score by more than {result['null_threshold']} and its passage covers at least
{result['min_coverage']} of the question's key terms (IDF-weighted): the thresholds with the best SQuAD 2.0 F1
among those that abstain on at least {result.get('min_no_answer', 0.0)} of the unanswerable questions. Scores:

| metric | value |
|---|---|
{rows}
"""


def render(card: dict) -> str:
    metrics = card.get("dev_metrics") or {}
    rows = "\n".join(f"| {name} | {value} |" for name, value in metrics.items())
    recipe = "\n".join(f"| {name} | {value} |" for name, value in card["recipe"].items())
    return f"""# Reader model card

An encoder ({card['recipe']['base']}) with a start/end span head; the first token's score means
"no answer" (SQuAD 2.0 style). Exported to ONNX and quantised to int8 (dynamic), run by ONNX Runtime.

## Reproduce

```
{card['command']}
```

{card['steps']} steps ({card['epochs']} epochs) over {card['windows']} windows from {card['examples']} examples
in {card['train_minutes']} minutes on {card['machine']} ({card['threads']} threads); mean training loss over
the run {card['train_loss']}. Malformed training lines skipped: {card['skipped_lines']}.

## Recipe

| setting | value |
|---|---|
{recipe}

## Dev scores (SQuAD 2.0 definitions, gold paragraph given)

| metric | value |
|---|---|
{rows}

## Data

{data_section(card['recipe'])}

## Training log (last entries)

```
{chr(10).join(json.dumps(entry) for entry in card['log'])}
```
"""
