import json

import pytest

from rag.errors import RagError
from rag.tools.evaluation.dataset import load_dataset
from tests.conftest import ROOT

GOOD = {"id": "q1", "question": "Who?", "answers": ["Kim"], "doc_ids": ["d"], "answerable": True}


def write(tmp_path, rows):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_project_eval_set_is_valid_and_big_enough():
    examples = load_dataset(ROOT / "eval" / "questions.jsonl")
    assert len(examples) >= 80
    assert sum(not e.answerable for e in examples) >= 12
    assert any(len(e.doc_ids) > 1 for e in examples)
    assert {e.split for e in examples} == {"dev", "test"}
    seeds = {p.stem for p in (ROOT / "seeds").glob("*.txt")}
    for e in examples:
        assert set(e.doc_ids) <= seeds, e.id
        texts = [(ROOT / "seeds" / f"{d}.txt").read_text(encoding="utf-8").lower() for d in e.doc_ids]
        assert not e.answerable or any(a.lower() in t for a in e.answers for t in texts), f"{e.id}: no answer in its documents"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("{not json", "line 2: invalid JSON"),
        ({**GOOD, "id": "q2", "answers": "Kim"}, "line 2: field 'answers' must be list"),
        ({k: v for k, v in GOOD.items() if k != "question"} | {"id": "q2"}, "line 2: missing field 'question'"),
        ({**GOOD, "id": "q2", "answerable": "yes"}, "line 2: field 'answerable' must be bool"),
        ({**GOOD, "id": "q2", "answerable": False}, "line 2: an unanswerable question must have empty"),
        (GOOD, "line 2: field 'id' repeats"),
    ],
)
def test_malformed_line_names_line_and_field(tmp_path, bad, message):
    with pytest.raises(RagError, match=message):
        load_dataset(write(tmp_path, [GOOD, bad]))


def test_split_filter(tmp_path):
    path = write(tmp_path, [GOOD | {"split": "dev"}, GOOD | {"id": "q2", "split": "test"}])
    assert [e.id for e in load_dataset(path, "test")] == ["q2"]
    with pytest.raises(RagError, match="no questions in split 'other'"):
        load_dataset(path, "other")


def test_without_a_dataset_the_project_eval_set_is_found_from_any_folder(tmp_path, monkeypatch):
    from rag.tools.evaluation.dataset import eval_set

    monkeypatch.chdir(tmp_path)
    assert eval_set(None).samefile(ROOT / "eval" / "questions.jsonl")
