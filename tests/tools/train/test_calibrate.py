"""Re-calibrating a reader rewrites only the calibration section of its model card."""

import pytest
from rag.tools.train.calibrate import with_calibration

CARD = "# Reader\n\nIntro.\n\n## Calibration (old)\n\nold numbers\n\n## Recipes tried\n\nkept table\n"
SECTION = "\n## Calibration (new)\n\nnew numbers\n"


def test_calibration_replaces_its_section_and_keeps_the_ones_after_it():
    card = with_calibration(CARD, SECTION)
    assert "new numbers" in card and "old numbers" not in card
    assert card.index("## Calibration (new)") < card.index("## Recipes tried")
    assert card.endswith("## Recipes tried\n\nkept table\n")


def test_calibration_is_appended_to_a_card_without_one():
    card = with_calibration("# Reader\n\nIntro.\n", SECTION)
    assert card == "# Reader\n\nIntro.\n" + SECTION


# --- calibrating on questions in the eval format, about a corpus folder -----------------------------------

import json  # noqa: E402
import shutil  # noqa: E402

from rag.answer import PACKAGED_READER  # noqa: E402
from tests.conftest import SEEDS  # noqa: E402
from tests.test_cli import rag  # noqa: E402

SEED = "002_a41762f22f1f4beb"


def questions(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def row(n, question, answers, doc_ids, split="dev"):
    return {"id": f"c{n}", "question": question, "answers": answers, "doc_ids": doc_ids,
            "answerable": bool(answers), "split": split}


def test_lines_that_do_not_match_the_corpus_stop_the_command_before_any_work(tmp_path):
    bad = questions(tmp_path / "q.jsonl", [
        row(1, "How much national budget did Gwangju secure?", ["62.6 billion KRW"], [SEED]),
        row(2, "Who?", ["Kim"], ["no_such_article"]),
        row(3, "How much?", ["999 trillion won"], [SEED]),
    ])
    reader = tmp_path / "reader"
    done = rag("calibrate-reader", "--dataset", str(bad), "--source", str(SEEDS), "--model", str(reader),
               tmp_path=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "line 2: no document 'no_such_article'" in done.stderr
    assert "line 3: no answer of 'c3' occurs in " + SEED in done.stderr
    assert "Calibrating" not in done.stderr  # nothing was read or loaded


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_calibration_writes_the_decision_into_the_reader_folder(tmp_path):
    reader = tmp_path / "reader"
    shutil.copytree(PACKAGED_READER, reader)
    rows = [
        row(1, "How much national budget did Gwangju secure this year?", ["62.6 billion KRW"], [SEED]),
        row(2, "Who is the president of Zhejiang University?", ["Ma Yanming"], ["000_f19b8aa6c8c62442"]),
        row(3, "What is the total project cost of Gwangju's AI Phase 2 initiative?", ["600 billion won"],
            ["000_f19b8aa6c8c62442"]),
        row(4, "How many visitors did the Zorblax festival draw?", [], []),
        row(5, "Who won the 2004 Tour de France?", [], []),
        row(6, "What is the boiling point of mercury?", [], []),
        row(7, "Who is the mayor of Gwangju?", ["Kang Gi-jung"], ["001_25a75e6ad182f60e"], split="test"),  # not used: dev only
    ]
    done = rag("calibrate-reader", "--dataset", str(questions(tmp_path / "q.jsonl", rows)), "--source", str(SEEDS),
               "--split", "dev", "--model", str(reader), tmp_path=tmp_path, env={"RAG_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    decision = json.loads((reader / "reader.json").read_text())["decision"]
    assert 0 < decision["low"] <= decision["high"] <= 1 and set(decision["weights"]) == {"margin", "fit", "coverage",
                                                                                        "mentioned"}
    calibration = json.loads((reader / "calibration.json").read_text())
    assert calibration["questions"] == 6 and calibration["dev_scores"]["abstention_accuracy"] >= 0.85
    assert "--split dev" in (reader / "MODEL_CARD.md").read_text()
