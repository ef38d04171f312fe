"""`rag train-reader` end to end on a tiny generated data set: a few steps, a checkpoint, resume, export, card.

The data is written here from generic sentences (never from the eval set or the seeds). Training is
real but short, so the model it makes is only plumbing; quality is measured by `rag eval`, not here.
"""

import json

import pytest

from rag.tools.evaluation.qa_lines import read_examples
from rag.tools.train.data import with_negatives, within_length
from tests.test_cli import rag

FACTS = [
    ("Lake Orvan", "The lake is fed by three rivers and reaches a depth of 42 metres near the dam.",
     "How deep is the lake near the dam?", "42 metres"),
    ("Lake Orvan", "Fishing boats have used the northern harbour since 1891, when the first pier was built.",
     "When was the first pier built?", "1891"),
    ("Tarsk Bridge", "The bridge was designed by Ilse Marwick and opened to traffic in the spring of 1962.",
     "Who designed the bridge?", "Ilse Marwick"),
    ("Tarsk Bridge", "Its steel towers were painted green after a vote held by the town council.",
     "What colour were the towers painted?", "green"),
]


def squad_lines(copies: int = 6) -> list[str]:
    lines = []
    for n in range(copies):
        for i, (title, context, question, answer) in enumerate(FACTS):
            lines.append(json.dumps({"id": f"t{n}-{i}", "title": title, "context": context, "question": question,
                                     "answers": [answer], "answer_starts": [context.index(answer)],
                                     "is_impossible": False}))
    lines.append(json.dumps({"id": "u1", "title": "Tarsk Bridge", "context": FACTS[2][1],
                             "question": "How long is the bridge?", "answers": [], "answer_starts": [],
                             "is_impossible": True}))
    return lines


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qa")
    (folder / "train.jsonl").write_text("\n".join(squad_lines()) + "\n")
    (folder / "dev.jsonl").write_text("\n".join(squad_lines(1)) + "\n")
    return folder


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """Train 2 steps with a checkpoint every step, then resume to 4: the same command a user would run
    (with bfloat16 autocast, BM25 negatives and perturbed questions, which the recipe records)."""
    out = tmp_path_factory.mktemp("reader") / "model"
    common = ["train-reader", "--data", str(data / "train.jsonl"), "--dev", str(data / "dev.jsonl"), "--out", str(out),
              "--batch-size", "4", "--save-steps", "1", "--threads", "1", "--keep-empty", "0.5", "--max-answer-words", "8",
              "--bf16", "--negatives-from", "bm25", "--perturbed", "0.5"]
    first = rag(*common, "--max-steps", "2", tmp_path=data)
    assert first.returncode == 0, first.stderr[-2000:]
    resumed = rag(*common, "--max-steps", "4", "--resume", tmp_path=data)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    return out, first, resumed


@pytest.mark.slow
def test_training_writes_a_loadable_model_with_its_card(trained):
    out, first, resumed = trained
    assert {p.name for p in out.iterdir()} >= {"model.onnx", "tokenizer.json", "reader.json", "MODEL_CARD.md"}
    card = json.loads((out / "training.json").read_text())
    assert card["steps"] == 4 and card["dev_metrics"]["examples"] == len(FACTS) + 1
    assert card["recipe"]["keep_empty"] == 0.5 and card["recipe"]["max_answer_words"] == 8
    assert card["recipe"]["bf16"] and card["recipe"]["negatives_from"] == "bm25" and card["recipe"]["perturbed"] == 0.5
    assert {"has_ans_f1", "no_ans_f1", "all_f1", "null_threshold"} <= set(card["dev_metrics"])
    text = (out / "MODEL_CARD.md").read_text()
    assert "train-reader" in text and "CC BY-SA 4.0" in text and "Dev scores" in text and "perturb.py" in text
    assert "examples_per_s" in first.stderr  # the progress log carries throughput beside the loss
    import onnx

    assert "IsNaN" not in {n.op_type for n in onnx.load(str(out / "model.onnx")).graph.node}
    from rag.answer.spans import SpanModel

    span = SpanModel(out).best(FACTS[2][2], [FACTS[2][1]])
    assert span is not None and 0 <= span.start < span.end <= len(FACTS[2][1])


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(trained):
    out, first, resumed = trained
    assert json.loads((out / "training.json").read_text())["steps"] == 4
    assert "resuming from" in resumed.stderr and resumed.stderr.count("checkpoint-2") >= 1
    assert "resuming" not in first.stderr


@pytest.mark.slow
def test_a_trained_reader_is_trained_further_from_its_own_weights(trained, data, tmp_path):
    out, first, resumed = trained
    further = tmp_path / "further"
    done = rag("train-reader", "--data", str(data / "train.jsonl"), "--out", str(further), "--base", str(out),
               "--max-steps", "1", "--batch-size", "4", "--threads", "1", tmp_path=data)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"writing the weights of the reader in {out}" in done.stderr
    assert json.loads((further / "reader.json").read_text())["base"] == "all-MiniLM-L6-v2"  # the encoder, kept


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_resume_without_a_checkpoint_is_one_clear_error(data, tmp_path):
    done = rag("train-reader", "--data", str(data / "train.jsonl"), "--out", str(tmp_path / "none"), "--resume",
               tmp_path=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: nothing to resume")


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_an_unknown_base_is_one_clear_error_naming_the_choices(data, tmp_path):
    done = rag("train-reader", "--data", str(data / "train.jsonl"), "--out", str(tmp_path / "m"), "--base", "e5-small",
               tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and "all-MiniLM-L6-v2" in done.stderr and "e5-small-enpt" in done.stderr


def test_malformed_lines_are_skipped_and_reported_by_number(tmp_path):
    good = squad_lines(1)
    bad_offset = json.loads(good[0]) | {"answer_starts": [3]}
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join([good[0], "{not json", json.dumps(bad_offset), json.dumps({"id": "x"}), good[1]]))
    loaded = read_examples(path)
    assert [e.id for e in loaded.examples] == ["t0-0", "t0-1"]
    assert [s.split(":")[0] for s in loaded.skipped] == ["line 2", "line 3", "line 4"]
    assert "not at offset 3" in loaded.skipped[1] and "missing" in loaded.skipped[2]


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_a_file_with_nothing_usable_stops_with_the_first_reason(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("{not json\n")
    done = rag("train-reader", "--data", str(path), "--out", str(tmp_path / "m"), tmp_path=tmp_path)
    assert done.returncode == 2 and "holds no usable examples (line 1: not JSON" in done.stderr


def test_negatives_pair_questions_with_other_paragraphs_of_their_article(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(squad_lines(1)))
    examples = read_examples(path).examples
    made = with_negatives(examples, share=1.0, seed=0)[len(examples):]
    assert made and all(not e.answerable for e in made)
    by_id = {e.id: e for e in examples}
    for negative in made:
        source = by_id[negative.id.removesuffix("-neg")]
        assert negative.title == source.title and negative.context != source.context
        assert source.answers[0] not in negative.context
    assert within_length(examples, 1) == [e for e in examples if not e.answerable or len(e.answers[0].split()) == 1]


def test_bm25_negatives_are_the_best_matching_paragraphs_without_the_answer_from_any_article():
    from rag.tools.evaluation.qa_lines import Example

    asked = Example("q", "Lake Orvan", "The lake reaches a depth of 42 metres near the dam.",
                    "How deep is the lake near the dam?", ["42 metres"], [27])
    examples = [
        asked,
        Example("a", "Lake Orvan", "At the dam the lake is 42 metres deep, the survey found.", "What did the survey find?"),
        Example("b", "River Sel", "The deep dam across the river was finished in 1950.", "When was the dam finished?"),
        Example("c", "Lake Orvan", "Swans nest on the lake every spring.", "What nests on the lake?"),
    ]
    made = with_negatives(examples, share=1.0, seed=0, source="bm25")[len(examples):]
    # The best match holds the answer, so the next one is taken, though it belongs to another article.
    assert [(e.id, e.context, e.answerable) for e in made] == [("q-neg", examples[2].context, False)]


def test_the_no_answer_margin_keeps_abstaining_on_the_share_of_unanswerable_questions_asked_for():
    from rag.tools.train.run import best_threshold

    # (prediction, margin, gold answers): right answers, with two unanswerable questions answered in between.
    rows = [("Paris", 9.0, ["Paris"]), ("Oslo", 8.0, ["Oslo"]), ("Rome", 7.0, []), ("Lima", 6.0, ["Lima"]),
            ("Riga", 5.0, ["Riga"]), ("Bern", 4.0, []), ("Kyiv", 3.0, ["Kyiv"]), ("Nuuk", 2.0, ["Nuuk"])]
    assert best_threshold(rows) == pytest.approx(2.0 - 1e-6)  # F1 alone: answer everything (6 right, 2 wrong)
    assert best_threshold(rows, min_no_answer=0.5) == pytest.approx(5.0 - 1e-6)  # at most one wrong answer
    assert best_threshold(rows, min_no_answer=1.0) == pytest.approx(8.0 - 1e-6)  # no wrong answer at all
