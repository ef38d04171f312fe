"""Write an eval run: report.json, report.md, predictions.jsonl and eval.png, all or nothing."""

from __future__ import annotations

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
    ("retrieve_ms_p50", "{:.1f}"), ("retrieve_ms_p95", "{:.1f}"), ("answer_ms_p50", "{:.1f}"),
    ("answer_ms_p95", "{:.1f}"), ("total_ms_p50", "{:.1f}"), ("total_ms_p95", "{:.1f}"),
    ("questions_per_second", "{:.1f}"),
]


def table(runs: list[dict]) -> list[list[str]]:
    header = ["metric"] + [run["config"] for run in runs]
    return [header] + [[name] + [fmt.format(run["metrics"][name]) for run in runs] for name, fmt in ROWS]


def text_table(runs: list[dict]) -> str:
    rows = table(runs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(runs: list[dict], meta: dict) -> str:
    rows = table(runs)
    out = ["# Evaluation report\n", f"Dataset `{meta['dataset']}`, split `{meta['split'] or 'all'}`, "
           f"{runs[0]['metrics']['questions']} questions ({runs[0]['metrics']['answerable']} answerable); "
           f"{meta['created']}.\n", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n"


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for run in runs:
        ks = [1, 3, 5, 10]
        left.plot(ks, [run["metrics"][f"recall@{k}"] for k in ks], marker="o", label=run["config"])
        right.hist([p["timings_ms"]["total"] for p in run["predictions"]], bins=30, alpha=0.5, label=run["config"])
    left.set(title="Retrieval recall@k", xlabel="k", ylabel="recall", ylim=(0, 1.05))
    right.set(title="Latency per question", xlabel="total ms", ylabel="questions")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
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
        plot(runs, staging / "eval.png")
    return out
