"""`rag eval` end to end, and the quality guard: CI fails when answer quality drops.

Thresholds sit a little under the numbers measured with the offline defaults (see README, Evaluation).
"""

import json

import pytest

from tests.conftest import ROOT
from tests.test_cli import rag

RULES_GUARD = {
    "--min-f1": "0.63",  # measured 0.671
    "--min-em": "0.55",  # measured 0.595
    "--min-recall-at-5": "0.95",  # measured 0.988
    "--min-citation-precision": "0.80",  # measured 0.860
    "--min-citation-recall": "0.92",  # measured 0.966
    "--min-abstention-accuracy": "0.87",  # measured 0.938
    "--max-false-abstention": "0.12",  # measured 0.071
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("eval")


@pytest.mark.slow
def test_quality_guard_on_the_project_eval_set(workdir):
    flags = [item for pair in RULES_GUARD.items() for item in pair]
    # No --dataset, and run outside the project: the project's own eval set is used.
    done = rag("eval", "--answerer", "rules", "--out", str(workdir / "out"), *flags, tmp_path=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((workdir / "out" / "report.json").read_text())
    assert report["runs"][0]["metrics"]["questions"] == 100
    predictions = (workdir / "out" / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 100 and (workdir / "out" / "eval.png").stat().st_size > 0
    report_md = (workdir / "out" / "report.md").read_text()
    assert "| f1 |" in report_md and "## Failing questions: rules+hybrid@5" in report_md
    failed = [json.loads(line) for line in predictions if not json.loads(line)["correct"]]
    assert f"({len(failed)} of 100)" in report_md and f"| {failed[0]['question']} |" in report_md


@pytest.mark.slow
def test_threshold_that_is_not_met_fails_the_command(workdir):
    done = rag("eval", "--dataset", str(ROOT / "eval" / "questions.jsonl"), "--split", "dev", "--limit", "10",
               "--retrieval", "dense,hybrid", "--answerer", "rules", "--min-f1", "0.99", "--out", str(workdir / "strict"),
               tmp_path=workdir)
    assert done.returncode == 1
    assert "FAIL rules+dense@5: f1" in done.stderr and "FAIL rules+hybrid@5: f1" in done.stderr
    report = json.loads((workdir / "strict" / "report.json").read_text())
    assert [r["config"] for r in report["runs"]] == ["rules+dense@5", "rules+hybrid@5"]


def test_malformed_dataset_names_the_line_and_writes_no_report(workdir):
    bad = workdir / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "Who?", "answers": ["Kim"], "doc_ids": [], "answerable": true}\n'
                   '{"id": "q2", "question": "Who?", "answers": "Kim", "doc_ids": [], "answerable": true}\n')
    done = rag("eval", "--dataset", str(bad), "--out", str(workdir / "bad-out"), tmp_path=workdir)
    assert done.returncode == 2 and "line 2: field 'answers' must be list" in done.stderr
    assert not (workdir / "bad-out").exists()


NEURAL_GUARD = {  # the default answerer on the project's eval set (decision calibrated on news-dev, 2026-12-03)
    "--min-f1": "0.79",  # measured 0.814
    "--min-em": "0.75",  # measured 0.774
    "--min-citation-precision": "0.78",  # measured 0.810
    "--min-abstention-accuracy": "0.80",  # measured 0.812: 13 of 16; one more wrong answer fails
    "--max-false-abstention": "0.05",  # measured 0.036: 3 of 84; two more abstentions fail
}
DEV = ROOT.parent / "shared" / "data" / "qa" / "dev.jsonl"
DEV_SLICE = ("Sky_(United_Kingdom)", "Victoria_(Australia)")  # 2 of 45 dev articles: 457 questions, 225 unanswerable
DEV_GUARD = {  # the decision is calibrated on news, guarded by SQuAD 2.0 F1 on a dev.jsonl sample (2026-12-03)
    "--min-squad2-f1": "0.46",  # measured 0.483 (answering and abstaining together)
    "--min-f1": "0.60",  # measured 0.632 (answerable questions)
    "--min-abstention-accuracy": "0.30",  # measured 0.329: SQuAD's adversarial unanswerables; 0.662 before
    "--max-false-abstention": "0.15",  # measured 0.121; 0.362 before
}


@pytest.mark.slow
def test_quality_guard_for_the_neural_reader(workdir):
    flags = [item for pair in NEURAL_GUARD.items() for item in pair]
    # The span reader's guard: every question read as a short one (routing is measured on its own, in
    # docs/evaluation.md).
    done = rag("eval", "--dataset", str(ROOT / "eval" / "questions.jsonl"), "--answerer", "neural", "--form", "span",
               "--out", str(workdir / "neural"), *flags, tmp_path=workdir)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_quality_guard_on_public_dev_data(workdir):
    """Public data the reader never trained on, indexed as a corpus: the guard against a reader that only
    does well on our own articles. The slice is written to a temporary file, never into the project."""
    assert DEV.is_file(), f"the dev data is read from {DEV} (shared/ beside the checkout)"
    lines = [line for line in DEV.read_text().splitlines() if json.loads(line)["title"] in DEV_SLICE]
    (workdir / "dev-slice.jsonl").write_text("\n".join(lines) + "\n")
    flags = [item for pair in DEV_GUARD.items() for item in pair]
    done = rag("eval", "--squad", str(workdir / "dev-slice.jsonl"), "--answerer", "neural", "--form", "span",
               "--out", str(workdir / "dev"), *flags, tmp_path=workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((workdir / "dev" / "report.json").read_text())["runs"][0]["metrics"]["questions"] == len(lines)


@pytest.mark.slow
def test_by_default_the_reader_is_compared_with_the_rules_baseline_with_intervals_and_splits(workdir):
    done = rag("eval", "--limit", "12", "--out", str(workdir / "default"), tmp_path=workdir)
    assert done.returncode == 0, done.stderr
    report = json.loads((workdir / "default" / "report.json").read_text())
    assert [(r["answerer"], r.get("baseline", False)) for r in report["runs"]] == [("neural", False), ("rules", True)]
    for run in report["runs"]:
        for name, (low, high) in run["intervals"].items():
            assert low <= run["metrics"][name] <= high, name
        assert set(run["splits"]) == {"dev", "test"}  # the sample holds both; each is scored on its own
        assert sum(s["questions"] for s in run["splits"].values()) == 12
    markdown = (workdir / "default" / "report.md").read_text()
    assert "rules+hybrid@5 (baseline)" in markdown and "## By split" in markdown and "95% bootstrap" in markdown
    assert (workdir / "default" / "eval.png").stat().st_size > 0
