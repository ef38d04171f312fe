"""The `generate` answerer: each sentence the model writes is checked against the source it cites; an
unsupported one is dropped, and with none left (or no generator reachable) the extractive answer stands."""

import pytest

from rag.answer.generate import GenerateAnswerer, ServerGenerator, gguf_path
from rag.errors import GeneratorUnavailable, ModelUnavailable

QUESTION = "Tell me about Gwangju's plan to nurture talent."


@pytest.fixture(scope="module")
def extractive(pipeline):
    return pipeline.answerer("sentences")


def written_from(draft_parts, extra=""):
    """A stand-in model that restates the first source, cites it, then adds `extra`."""
    def generate(prompt, tokens):
        return f"{draft_parts[0]} [1] {extra}"
    return generate


def test_supported_sentences_are_kept_and_a_made_up_one_is_dropped(pipeline, extractive):
    hits = pipeline.search(QUESTION, k=5)
    parts = extractive.answer(QUESTION, hits).parts
    answerer = GenerateAnswerer(extractive, written_from(parts, "Gwangju will train 90,000 astronauts by 2031. [2]"))
    draft = answerer.answer(QUESTION, hits)
    assert draft.parts == [parts[0]]  # the made-up sentence is not shown as sourced
    from rag.cite import cite

    result = cite(QUESTION, draft, hits)
    assert result.form == "sentences" and "astronauts" not in result.answer and result.citations


def test_an_answer_with_no_supported_sentence_falls_back_to_the_extractive_one(pipeline, extractive):
    hits = pipeline.search(QUESTION, k=5)
    answerer = GenerateAnswerer(extractive, lambda prompt, tokens: "Nothing to see here, no citation at all.")
    draft = answerer.answer(QUESTION, hits)
    assert draft.parts == extractive.answer(QUESTION, hits).parts
    assert any("no sentence its sources support" in note for note in draft.notes)


def test_an_unreachable_server_falls_back_or_is_a_503(pipeline, extractive):
    hits = pipeline.search(QUESTION, k=5)
    server = ServerGenerator("http://127.0.0.1:9", "any", timeout=2)  # the discard port: nothing listens
    draft = GenerateAnswerer(extractive, server).answer(QUESTION, hits)
    assert draft.parts and any("unavailable" in note for note in draft.notes)
    with pytest.raises(GeneratorUnavailable, match="did not answer") as caught:
        GenerateAnswerer(extractive, server, fallback=False).answer(QUESTION, hits)
    assert caught.value.status == 503


def test_a_missing_or_corrupt_model_file_is_one_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        gguf_path(str(tmp_path / "none.gguf"))
    (tmp_path / "bad.gguf").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="not a GGUF file"):
        gguf_path(str(tmp_path / "bad.gguf"))


@pytest.mark.slow
def test_the_packaged_gguf_model_answers_through_the_whole_path(pipeline, extractive):
    """Gemma 3 270M, a real (weak) model: whatever it writes, only supported sentences reach the user."""
    from rag.answer.generate import make_generator
    from rag.cite import cite

    hits = pipeline.search(QUESTION, k=5)
    draft = GenerateAnswerer(extractive, make_generator(None, "gemma3-270m"), max_tokens=80).answer(QUESTION, hits)
    result = cite(QUESTION, draft, hits)
    assert not result.abstained and result.citations
    from rag.tools.evaluation.metrics import sentence_support

    assert all(sentence_support(result.answer, {c.n: c.quote for c in result.citations}))


def test_an_openai_compatible_server_writes_the_answer(pipeline, extractive):
    """A completion server on loopback (llama.cpp's server, Ollama and vLLM speak /v1/completions)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    hits = pipeline.search(QUESTION, k=5)
    first = extractive.answer(QUESTION, hits).parts[0]
    asked = []

    class Completions(BaseHTTPRequestHandler):
        def do_POST(self):
            asked.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = json.dumps({"choices": [{"text": f" {first} [1]\n\nQuestion: more"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Completions)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        generator = ServerGenerator(f"http://127.0.0.1:{server.server_port}", "local-model")
        draft = GenerateAnswerer(extractive, generator).answer(QUESTION, hits)
    finally:
        server.shutdown()
    assert draft.parts == [first] and asked[0]["model"] == "local-model" and "[1] " in asked[0]["prompt"]
