import pytest
from pydantic import ValidationError

from rag.settings import Settings


def test_flags_override_environment_override_defaults(monkeypatch):
    assert Settings().k == 5
    monkeypatch.setenv("RAG_K", "7")
    assert Settings.from_flags(k=None).k == 7
    assert Settings.from_flags(k=3).k == 3


def test_invalid_values_are_rejected(monkeypatch):
    with pytest.raises(ValidationError):
        Settings(k=0)
    monkeypatch.setenv("RAG_RETRIEVAL", "sparse")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize("field, value, kind", [
    ("answerer", "oracle", "answerer"), ("embedder", "word2vec", "embedder"),
    ("retrieval", "sparse", "retrieval mode"), ("seq2seq_runtime", "vllm", "seq2seq runtime"),
    ("store", "qdrant", "store"),
])
def test_unknown_backend_names_are_one_error_listing_the_registered_choices(field, value, kind):
    from rag.answer import ANSWERERS
    from rag.answer.generators import RUNTIMES
    from rag.embed import EMBEDDERS
    from rag.index import STORES
    from rag.retrieve import RETRIEVERS

    registry = {"answerer": ANSWERERS, "embedder": EMBEDDERS, "retrieval": RETRIEVERS, "seq2seq_runtime": RUNTIMES,
                "store": STORES}
    with pytest.raises(ValidationError) as caught:
        Settings(**{field: value})
    message = str(caught.value)
    assert f"unknown {kind} {value!r}; choose one of: {', '.join(registry[field].names())}" in message


def test_validating_a_question_or_building_settings_imports_no_model_or_numpy():
    """Checking backend names once imported answer, embed, index and retrieve with numpy: 102 modules, 1.07 s."""
    import subprocess
    import sys

    code = ("import sys, rag.inputs, rag.answer.route, rag.settings; rag.settings.Settings(); "
            "rag.inputs.validate_question('Who?'); rag.answer.route.route('Who?'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'spacy', 'faiss', 'bm25s', "
            "'onnxruntime', 'numpy') or m.startswith(('rag.index.', 'rag.answer.neural'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_rag_toml_sits_between_the_environment_and_the_defaults(tmp_path, monkeypatch):
    from rag.errors import RagError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('k = 7\nanswerer = "rules"\n')
    assert (Settings().k, Settings().answerer) == (7, "rules")
    monkeypatch.setenv("RAG_K", "9")
    assert Settings().k == 9 and Settings.from_flags(k=3).k == 3
    (tmp_path / "rag.toml").write_text("kk = 7\n")
    with pytest.raises(ValidationError, match="kk"):
        Settings()
    (tmp_path / "rag.toml").write_text("k = [\n")
    with pytest.raises(RagError, match="rag.toml is not valid TOML"):
        Settings()
