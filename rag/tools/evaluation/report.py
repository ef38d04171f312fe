"""Write an eval run: report.json, report.md, predictions.jsonl and eval.png, all or nothing."""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timezone
from pathlib import Path

from rag.atomic import replacing

ROWS = [
    ("recall@1", "{:.3f}"), ("recall@3", "{:.3f}"), ("recall@5", "{:.3f}"), ("recall@10", "{:.3f}"),
    ("mrr", "{:.3f}"), ("ndcg@10", "{:.3f}"), ("em", "{:.3f}"), ("f1", "{:.3f}"),
    ("squad2_em", "{:.3f}"), ("squad2_f1", "{:.3f}"),
    ("citation_precision", "{:.3f}"), ("citation_recall", "{:.3f}"),
    ("abstention_accuracy", "{:.3f}"), ("false_abstention_rate", "{:.3f}"),
    ("low_share", "{:.3f}"), ("high_f1", "{:.3f}"), ("low_f1", "{:.3f}"),
    ("nugget_recall", "{:.3f}"), ("citation_support", "{:.3f}"), ("open_abstention_accuracy", "{:.3f}"),
    ("open_false_abstention_rate", "{:.3f}"), ("open_words_p50", "{:.0f}"),
    ("retrieve_ms_p50", "{:.1f}"), ("retrieve_ms_p95", "{:.1f}"), ("answer_ms_p50", "{:.1f}"),
    ("answer_ms_p95", "{:.1f}"), ("total_ms_p50", "{:.1f}"), ("total_ms_p95", "{:.1f}"),
    ("questions_per_second", "{:.1f}"),
]


def table(runs: list[dict], intervals: bool = False) -> list[list[str]]:
    """One row per metric, one column per run; with `intervals`, the headline metrics carry their 95% bootstrap
    interval."""
    header = ["metric"] + [run["config"] + (" (baseline)" if run.get("baseline") else "") for run in runs]

    def value(run: dict, name: str, fmt: str) -> str:
        text = fmt.format(run["metrics"][name])
        low_high = run.get("intervals", {}).get(name) if intervals else None
        return f"{text} [{fmt.format(low_high[0])}, {fmt.format(low_high[1])}]" if low_high else text

    return [header] + [[name] + [value(run, name, fmt) for run in runs] for name, fmt in rows_of(runs)]


def rows_of(runs: list[dict]) -> list[tuple[str, str]]:
    """The metrics the runs have: open-question rows only when the set has open questions."""
    return [(name, fmt) for name, fmt in ROWS if all(name in run["metrics"] for run in runs)]


def text_table(runs: list[dict]) -> str:
    rows = table(runs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


HEADLINE_ROWS = ("em", "f1", "citation_precision", "citation_recall", "abstention_accuracy", "false_abstention_rate",
                 "low_share", "recall@5", "nugget_recall", "citation_support", "open_abstention_accuracy",
                 "open_words_p50")
FAILURES_SHOWN = 50  # per configuration; predictions.jsonl holds every question


def markdown(runs: list[dict], meta: dict) -> str:
    rows = table(runs, intervals=True)
    out = ["# Evaluation report\n", f"Dataset `{meta['dataset']}`, split `{meta['split'] or 'all'}`, "
           f"{runs[0]['metrics']['questions']} questions ({runs[0]['metrics']['answerable']} answerable); "
           f"{meta['created']}. Brackets: 95% bootstrap intervals over questions (1,000 resamples).\n",
           "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    splits = sorted({s for run in runs for s in run.get("splits", {})})
    if splits:  # choose settings on dev, report test: each split on its own
        columns = [(run, s) for s in splits for run in runs]
        out += ["\n## By split\n", "| metric | " + " | ".join(f"{run['config']} ({s}, "
                f"{run['splits'][s]['questions']} q)" for run, s in columns) + " |", "|" + "---|" * (len(columns) + 1)]
        out += [f"| {name} | " + " | ".join(fmt.format(run["splits"][s][name]) for run, s in columns) + " |"
                for name, fmt in rows_of(runs) if name in HEADLINE_ROWS and all(
                    name in run["splits"][s] for run, s in columns)]
    for run in runs:
        failed = [p for p in run["predictions"] if not p["correct"]]
        out += [f"\n## Failing questions: {run['config']} ({len(failed)} of {len(run['predictions'])})\n",
                "| question | gold | prediction | why |", "|---|---|---|---|"]
        out += [f"| {cell(p['question'])} | {cell(' / '.join(p['gold_answers']) or '(unanswerable)')} | "
                f"{cell(p['prediction'] or '(abstained)')} | {cell(failure(p))} |" for p in failed[:FAILURES_SHOWN]]
        if len(failed) > FAILURES_SHOWN:
            out.append(f"\n{len(failed) - FAILURES_SHOWN} more in predictions.jsonl.")
    return "\n".join(out) + "\n"


def failure(prediction: dict) -> str:
    """Why a question counts as failed, in words: the first thing to look at when fixing it."""
    if not prediction["answerable"]:
        return "answered a question the documents do not answer"
    missed = prediction["retrieval"]["recall@10"] == 0
    if prediction["abstained"]:
        return ("gold passage not retrieved; " if missed else "") + f"abstained: {prediction['reason']}"
    score = (f"nugget recall {prediction['nugget_recall']:.2f}" if prediction.get("kind") == "open"
             else f"F1 {prediction['f1']:.2f}")
    if missed:
        return f"gold passage not retrieved; wrong answer ({score})"
    return f"wrong answer ({score})"


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")[:200]


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (quality, left, right) = plt.subplots(1, 3, figsize=(20, 4.5), gridspec_kw={"width_ratios": [2, 1, 1]})
    labels = {"em": "EM", "f1": "F1", "abstention_accuracy": "abstention\naccuracy",
              "false_abstention_rate": "false\nabstention", "citation_precision": "citation\nprecision",
              "citation_recall": "citation\nrecall", "nugget_recall": "open:\nnugget recall",
              "citation_support": "open: citation\nsupport", "open_abstention_accuracy": "open:\nabstention"}
    names = [name for name in labels if all(name in run["metrics"] for run in runs)]
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        values = [run["metrics"][name] for name in names]
        spans = [run.get("intervals", {}).get(name) for name in names]
        errors = [[v - s[0] if s else 0 for v, s in zip(values, spans)], [s[1] - v if s else 0 for v, s in zip(values, spans)]]
        bars = quality.bar([n + i * width for n in range(len(names))], values, width, yerr=errors, capsize=3,
                           label=run["config"] + (" (baseline)" if run.get("baseline") else ""))
        quality.bar_label(bars, fmt="%.2f", fontsize=7, padding=2)
        ks = [1, 3, 5, 10]
        left.plot(ks, [run["metrics"][f"recall@{k}"] for k in ks], marker="o", label=run["config"])
        right.hist([p["timings_ms"]["total"] for p in run["predictions"]], bins=30, alpha=0.5, label=run["config"])
    quality.set_xticks([n + 0.4 - width / 2 for n in range(len(names))], [labels[name] for name in names])
    quality.set(title="Answer quality (bars: 95% bootstrap intervals)", ylim=(0, 1.12))
    left.set(title="Retrieval recall@k", xlabel="k", ylabel="recall", ylim=(0, 1.05))
    right.set(title="Latency per question", xlabel="total ms", ylabel="questions")
    for axes in (quality, left, right):
        axes.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(runs: list[dict], out: Path, dataset: Path, split: str | None) -> Path:
    """Everything is written to a temporary folder first, then moved into place in one rename."""
    meta = {"dataset": str(dataset), "split": split, "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    with replacing(out) as staging:
        staging.mkdir()
        report = meta | {"runs": [{k: v for k, v in run.items() if k != "predictions"} for run in runs]}
        (staging / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        (staging / "report.md").write_text(markdown(runs, meta), encoding="utf-8")
        with open(staging / "predictions.jsonl", "w", encoding="utf-8") as handle:
            for run in runs:
                for prediction in run["predictions"]:
                    handle.write(json.dumps(prediction, ensure_ascii=False) + "\n")
        if importlib.util.find_spec("matplotlib"):  # the `tools` extra; the install that answers leaves it out
            plot(runs, staging / "eval.png")
    return out
