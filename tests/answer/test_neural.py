"""The `neural` answerer with the shipped model: verbatim spans, offsets into the file, abstention,
and one clear error for a damaged model folder."""

import json
import shutil

import pytest

from rag.answer import PACKAGED_READER
from rag.answer.neural import locate
from rag.answer.spans import ModelFileError, SpanModel
from rag.contracts import Chunk, Hit, Sentence
from tests.test_cli import rag


@pytest.fixture(scope="module")
def reader(pipeline):
    return pipeline.answerer("neural")


def test_the_shipped_model_is_small_and_complete():
    sizes = {p.name: p.stat().st_size for p in PACKAGED_READER.iterdir()}
    assert {"model.onnx", "tokenizer.json", "reader.json", "MODEL_CARD.md"} <= set(sizes)
    assert sum(sizes.values()) < 40_000_000
    assert "rag train-reader" in (PACKAGED_READER / "MODEL_CARD.md").read_text()


def test_the_shipped_model_has_no_nan_guard_in_its_attention():
    """torch's exported attention checks every score for NaN; that cost a quarter of the reader's time."""
    import onnx

    ops = [n.op_type for n in onnx.load(str(PACKAGED_READER / "model.onnx")).graph.node]
    assert "IsNaN" not in ops and ops.count("Where") <= 2
    # int8 weights everywhere: per layer 6 weight matrices (MatMulInteger) and 2 attention products (MatMul)
    assert ops.count("MatMulInteger") == 3 * ops.count("MatMul") + 1


def test_answers_are_verbatim_spans_with_file_offsets(pipeline, reader):
    question = "How much national budget did Gwangju secure this year?"
    hits = pipeline.search(question, k=5)
    draft = reader.answer(question, hits)
    assert not draft.abstained and draft.text
    evidence = draft.evidence[0]
    document = pipeline.store.documents[hits[evidence.hit].chunk.doc_id]
    assert document.text[evidence.answer_start : evidence.answer_end] == draft.text
    result = pipeline.ask(question, answerer="neural")
    assert result.citations and draft.text in result.citations[0].quote


def test_it_abstains_when_the_passages_do_not_say(pipeline):
    result = pipeline.ask("What is the capital of France?", answerer="neural")
    assert result.abstained and result.passages


def test_nothing_retrieved_is_an_abstention(reader):
    assert reader.answer("Who?", []).abstained


def test_a_span_across_two_sentences_is_cut_at_the_first_sentence_end():
    # The file holds two spaces between the sentences; the chunk text joins them with one.
    text = "Kim won.  Lee lost."
    chunk = Chunk("d#0", "d", "t", 0, len(text), "Kim won. Lee lost.", [Sentence(0, 8, []), Sentence(10, 19, [])])
    assert locate(chunk, 0, 3) == (0, 0, 3)
    assert locate(chunk, 9, 12) == (1, 0, 3)  # "Lee"
    assert locate(chunk, 4, 12) == (0, 4, 8)  # "won. Lee" → "won."
    hit = Hit(0, chunk, 1.0)
    assert hit.chunk.sentence_texts() == ["Kim won.", "Lee lost."]


@pytest.fixture
def damaged(tmp_path):
    folder = tmp_path / "reader"
    shutil.copytree(PACKAGED_READER, folder)
    return folder


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.onnx").unlink(), "model.onnx is missing"),
    (lambda f: (f / "model.onnx").write_bytes((f / "model.onnx").read_bytes()[:100_000]), "model.onnx cannot be loaded"),
    (lambda f: (f / "reader.json").write_text("{"), "reader.json is unreadable"),
    (lambda f: (f / "reader.json").write_text(json.dumps(json.loads((f / "reader.json").read_text())
                                                         | {"vocab_size": 5})), "expects 5"),
    (lambda f: (f / "tokenizer.json").write_text("[]"), "tokenizer.json is unreadable"),
])
def test_a_damaged_model_folder_is_one_error_naming_the_file_and_the_fix(damaged, damage, message):
    damage(damaged)
    with pytest.raises(ModelFileError, match=message) as caught:
        SpanModel(damaged)
    assert "rag train-reader" in str(caught.value)


def test_the_cli_reports_a_missing_model_in_one_line(damaged, tmp_path):
    (damaged / "model.onnx").unlink()
    done = rag("ask", "Who is the mayor?", "--answerer", "neural", tmp_path=tmp_path,
               env={"RAG_READER_MODEL": str(damaged)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: reader model file") and "model.onnx" in done.stderr


def test_the_server_refuses_to_start_with_a_damaged_model(damaged, tmp_path):
    (damaged / "model.onnx").unlink()
    done = rag("serve", "--port", "1", tmp_path=tmp_path,
               env={"RAG_READER_MODEL": str(damaged), "RAG_ANSWERER": "neural"})
    assert done.returncode == 2 and "error: reader model file" in done.stderr and "Traceback" not in done.stderr
