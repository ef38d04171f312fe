"""The `neural` answerer with the shipped model: verbatim spans, offsets into the file, abstention,
and one clear error for a damaged model folder."""

import json
import shutil

import pytest

from rag.answer import PACKAGED_READER
from rag.answer.neural import locate
from rag.answer.spans import SpanModel
from rag.errors import ModelFileError
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


def flip_bytes(path, at: int = 5_000_000, n: int = 64):
    data = bytearray(path.read_bytes())
    data[at : at + n] = bytes(b ^ 0xFF for b in data[at : at + n])
    path.write_bytes(bytes(data))


def without_digests(folder):
    config = json.loads((folder / "reader.json").read_text())
    config.pop("sha256")
    (folder / "reader.json").write_text(json.dumps(config))


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.onnx").unlink(), "model.onnx is missing"),
    (lambda f: (f / "model.onnx").write_bytes((f / "model.onnx").read_bytes()[:100_000]),
     "model.onnx is damaged or was changed"),
    (lambda f: flip_bytes(f / "model.onnx"), "model.onnx is damaged or was changed"),  # loads, answers nonsense
    (lambda f: (without_digests(f), (f / "model.onnx").write_bytes(b"\x00" * 100)), "model.onnx cannot be loaded"),
    (lambda f: (f / "reader.json").write_text("{"), "reader.json is unreadable"),
    (lambda f: (f / "reader.json").write_text(json.dumps(json.loads((f / "reader.json").read_text())
                                                         | {"vocab_size": 5})), "reader.json is damaged or was changed"),
    (lambda f: (without_digests(f), (f / "reader.json").write_text(json.dumps(json.loads((f / "reader.json").read_text())
                                                                             | {"vocab_size": 5}))), "expects 5"),
    (lambda f: (f / "tokenizer.json").write_text("[]"), "tokenizer.json is damaged or was changed"),
    (lambda f: (without_digests(f), (f / "tokenizer.json").write_text("[]")), "tokenizer.json is unreadable"),
])
def test_a_damaged_model_folder_is_one_error_naming_the_file_and_the_fix(damaged, damage, message):
    damage(damaged)
    with pytest.raises(ModelFileError, match=message) as caught:
        SpanModel(damaged, unverified=True)  # a folder without checksums as well: its files fail on their own
    assert "rag train-reader" in str(caught.value)


def test_a_folder_without_checksums_is_refused_unless_the_user_says_it_is_local(damaged):
    """With the "sha256" key deleted from reader.json another ONNX file loaded, then failed at the first question."""
    without_digests(damaged)
    with pytest.raises(ModelFileError, match="RAG_READER_UNVERIFIED"):
        SpanModel(damaged)
    assert SpanModel(damaged, unverified=True).threshold


def test_the_decision_in_reader_json_is_checked_too(damaged):
    """low/high set to 0 once answered "What is the population of Mars?" with "810,000"."""
    config = json.loads((damaged / "reader.json").read_text())
    config["decision"] |= {"low": 0.0, "high": 0.0}
    (damaged / "reader.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="reader.json is damaged or was changed"):
        SpanModel(damaged, unverified=True)


@pytest.mark.slow
def test_the_cli_reports_a_missing_model_in_one_line(damaged, tmp_path):
    (damaged / "model.onnx").unlink()
    done = rag("ask", "Who is the mayor?", "--answerer", "neural", tmp_path=tmp_path,
               env={"RAG_READER_MODEL": str(damaged)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: reader model file") and "model.onnx" in done.stderr


@pytest.mark.slow
def test_the_server_refuses_to_start_with_a_damaged_model(damaged, tmp_path):
    (damaged / "model.onnx").unlink()
    done = rag("serve", "--port", "1", tmp_path=tmp_path,
               env={"RAG_READER_MODEL": str(damaged), "RAG_ANSWERER": "neural"})
    assert done.returncode == 2 and "error: reader model file" in done.stderr and "Traceback" not in done.stderr


# --- the calibrated decision: answer, answer unsure, or abstain with a reason ---------------------------

from rag.answer.neural import NOT_MENTIONED, NOT_SAID, Candidate, Decision, NeuralAnswerer, Reading, complete_entities  # noqa: E402
from rag.contracts import Draft, Evidence  # noqa: E402

DECISION = {"weights": {"margin": 1.0, "fit": 0.0, "coverage": 0.0, "mentioned": 0.0}, "bias": 0.0,
            "high": 0.9, "low": 0.5, "not_mentioned": 0.5, "fit_weight": 3.0}


class FixedReading(NeuralAnswerer):
    """The decision alone, on a reading given by the test instead of the model."""

    def __init__(self, reading: Reading):
        self.reading, self.decision, self.first, self.windows = reading, Decision(DECISION), 0, 0

    def _read(self, question, hits, *args, **kwargs):
        return self.reading


def candidate(text: str, margin: float, fit: float = 1.0) -> Candidate:
    return Candidate(Draft(text=text, evidence=[Evidence(0, 0, 0, len(text))]), margin, fit, 1.0)


@pytest.mark.parametrize("margin, abstained, unsure", [(5.0, False, False), (0.5, False, True), (-1.0, True, False)])
def test_the_score_answers_confidently_answers_unsure_or_abstains(margin, abstained, unsure):
    draft = FixedReading(Reading([candidate("Kim", margin)], mentioned=1.0)).answer("Who?", [])
    assert draft.abstained is abstained and draft.unsure is unsure
    assert 0.0 < draft.confidence < 1.0
    if abstained:
        assert draft.abstain_reason.startswith(NOT_SAID)


def test_a_question_about_what_no_passage_mentions_says_so():
    reading = Reading([candidate("Kim", -2.0)], mentioned=0.2, missing=["zorblax", "festival"])
    draft = FixedReading(reading).answer("How many visitors did the Zorblax festival draw?", [])
    assert draft.abstained and draft.abstain_reason.startswith(NOT_MENTIONED)
    assert "'zorblax'" in draft.abstain_reason


def test_a_span_of_the_kind_asked_for_wins_over_a_slightly_better_one():
    reading = Reading([candidate("two years", 6.0, fit=0.0), candidate("£3m", 4.0, fit=1.0)], mentioned=1.0)
    assert FixedReading(reading).answer("How much will he earn?", []).text == "£3m"
    assert reading.chosen(0.0).draft.text == "two years"


def test_a_span_that_cuts_a_name_takes_all_of_it(nlp):
    sentence = "Kim graduated from the Gwangju Institute of Science and Technology in 2010."
    start = sentence.index("Gwangju")
    start, end = complete_entities(nlp, sentence, start, start + len("Gwangju Institute"))
    assert sentence[start:end].endswith("Gwangju Institute of Science and Technology")


def test_answers_carry_their_confidence_through_the_pipeline(pipeline):
    result = pipeline.ask("How much national budget did Gwangju secure this year?", answerer="neural")
    assert not result.abstained and result.confidence in ("high", "low") and 0 < result.score <= 1
    refused = pipeline.ask("What is the capital of France?", answerer="neural")
    assert refused.confidence is None and refused.reason


@pytest.mark.slow
def test_a_reader_calibrated_before_the_scorer_keeps_its_old_rule_and_says_how_to_recalibrate(damaged, tmp_path):
    from rag.answer.spans import write_config

    config = json.loads((damaged / "reader.json").read_text())
    config.pop("decision")
    write_config(damaged, config)  # as rag train-reader leaves a folder: checksummed, not yet calibrated
    done = rag("ask", "How much national budget did Gwangju secure this year?", tmp_path=tmp_path,
               env={"RAG_READER_MODEL": str(damaged)})
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "62.6 billion KRW" in done.stdout
    notes = [line for line in done.stderr.splitlines() if "rag calibrate-reader --dataset" in line]
    assert len(notes) == 1


# --- reading the first passages first ----------------------------------------------------------------

class Counting:
    """The span model, noting how many passages each call reads."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def candidates(self, question, passages, n, offset=0):
        self.calls.append(len(passages))
        return self.model.candidates(question, passages, n, offset)

    def __getattr__(self, name):
        return getattr(self.model, name)


def two_stage(reader, first=2):
    model = Counting(reader.model)
    return NeuralAnswerer(model, reader.coverage, reader.nlp, first), model


def test_a_confident_answer_from_the_first_passages_leaves_the_rest_unread(pipeline, reader):
    question = "How much national budget did Gwangju secure this year?"
    hits = pipeline.search(question)
    answerer, model = two_stage(reader)
    draft = answerer.answer(question, hits)
    assert len(hits) == 5 and model.calls == [2]
    assert not draft.abstained and not draft.unsure
    assert draft.text == reader.answer(question, hits).text


def test_an_unsure_first_reading_reads_the_rest_and_ends_as_one_reading_would(pipeline, reader):
    question = "What is the capital of France?"
    hits = pipeline.search(question)
    answerer, model = two_stage(reader)
    draft, whole = answerer.answer(question, hits), two_stage(reader, first=0)[0].answer(question, hits)
    assert model.calls == [2, 3]
    assert draft.abstained and whole.abstained and draft.abstain_reason == whole.abstain_reason


def test_passages_read_second_follow_the_first_and_join_them_by_margin(pipeline, reader):
    question = "What is the capital of France?"
    hits = pipeline.search(question)
    answerer, _ = two_stage(reader)
    first = answerer._read(question, hits, 2)
    both = answerer._read(question, hits, len(hits), first)
    rest = reader.model.candidates(question, [hit.chunk.text for hit in hits[2:]], 5, offset=2)
    assert first.spans and rest and {span.passage for span in rest} <= {2, 3, 4}
    assert both.spans == sorted(first.spans + rest, key=lambda span: -span.margin)[:5]
    assert both.upto == len(hits)


@pytest.mark.slow
@pytest.mark.parametrize("length", [1350, 1999, 2000])
def test_a_long_valid_question_is_read_not_a_crash(pipeline, length):
    """The tokenizer refused a question that left the passage less than a stride of the window
    ("stride must be strictly less than max_len"); the reader reads the question's end."""
    from tests.test_hostile_inputs import long_question

    result = pipeline.ask(long_question(length), answerer="neural")
    assert result.answer


def test_the_reader_reads_a_long_questions_end(reader):
    question = "Filler sentence about nothing much. " * 40 + "Who is the president of Zhejiang University?"
    readable = reader.model.readable(question)
    assert readable.endswith("Who is the president of Zhejiang University?") and len(readable) < len(question)
    assert reader.model.readable("Who is the mayor?") == "Who is the mayor?"


def test_select_then_read_points_its_evidence_back_into_the_passages(pipeline):
    """RAG_READER_WINDOWS: the reader reads windows of sentences; the answer's evidence and offsets still index the
    retrieved passages and the file."""
    from rag import Settings
    from rag.answer import make_answerer
    from rag.answer.sentences import windows

    reader = make_answerer("neural", Settings(reader_windows=2), pipeline.store, pipeline.nlp, pipeline.embedder)
    question = "How much national budget did Gwangju secure this year?"
    hits = pipeline.search(question, k=5)
    draft = reader.answer(question, hits)
    assert draft.text == "62.6 billion KRW"
    evidence = draft.evidence[0]
    document = pipeline.store.documents[hits[evidence.hit].chunk.doc_id]
    assert document.text[evidence.answer_start:evidence.answer_end] == draft.text
    sentence = hits[evidence.hit].chunk.sentences[evidence.sentence]
    assert sentence.start <= evidence.answer_start < evidence.answer_end <= sentence.end
    ranked = reader.ranker.rank(question, ["national", "budget"], hits)
    chosen = windows(ranked, hits, 2)
    assert 1 <= len(chosen) <= 2 and all(w.first <= w.last for w in chosen)
