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
                     "(`perturbed`, see `rag/tools/train/perturb.py`).")
    return f"""{SOURCES}
Unanswerable pairs are added by pairing a question with {where}
(`negatives` and `negatives_from` in the recipe).{perturbed} Dev data (`dev.jsonl`: SQuAD 2.0 / 1.1 dev articles,
none in train) picks the no-answer margin and is never trained on."""


def calibration_section(result: dict) -> str:
    decision = result["decision"]
    weights = ", ".join(f"{name} {value}" for name, value in decision["weights"].items())
    rows = "\n".join(f"| {name} | {value} |" for name, value in result["dev_scores"].items())
    guard = result.get("guard")
    kept = (f" It also keeps the SQuAD 2.0 F1 of {guard['questions']} --squad questions, asked through retrieval, at "
            f"least {guard['min_squad2_f1']} (measured {guard['squad2_f1']}), which can raise `low`." if guard else "")
    return f"""
## Calibration (dev questions asked through retrieval)

```
{result['command']}
```

{result['questions']} dev questions, top-{result['k']} passages. The reader proposes its best spans; one whose
kind fits the question is lifted by {decision['fit_weight']} in margin. A logistic score over its signals
(weights {weights}; bias {decision['bias']}) decides: answer from {decision['high']}, answer marked unsure from
{decision['low']}, abstain below (the lowest bar that abstains on at least {result['min_abstention']} of the
unanswerable questions; answers from `high` were right at least {result['sure']} of the time). Retrieved
passages covering less than {decision['not_mentioned']} of the key terms give the reason "not in the indexed
articles".{kept} Scores on these same dev questions (report held-out figures with `rag eval --split test`):

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
