"""Embedding backends: the ONNX path gives sentence-transformers' vectors and token counts."""

import numpy as np
import pytest

from rag.embed import load_embedder, resolve_model_path
from rag.embed.onnx_export import cached_export
from rag.errors import RagError

TEXTS = ["Who is the mayor of Hangzhou?", "", "Gwangju secured 62.6 billion KRW. " * 60, "광주 AI 중심도시"]


def test_onnx_matches_sentence_transformers(embedder):
    reference = load_embedder("sentence-transformers", "all-MiniLM-L6-v2", None)
    ours, theirs = embedder.encode(TEXTS), reference.encode(TEXTS)
    assert embedder.name == "all-MiniLM-L6-v2" and ours.shape == theirs.shape == (4, 384)
    assert np.abs(ours - theirs).max() < 1e-4  # the long text is truncated at 256 tokens by both
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert [embedder.count_tokens(t) for t in TEXTS] == [reference.count_tokens(t) for t in TEXTS]
    assert embedder.count_tokens(TEXTS[2]) > 256  # counting never truncates: the chunker relies on it


def test_export_is_cached_and_reused(tmp_path, monkeypatch):
    model = resolve_model_path("all-MiniLM-L6-v2")
    first = cached_export(model, tmp_path)
    assert first.is_file() and not list(first.parent.glob(".*tmp*"))
    import onnx

    assert "IsNaN" not in {n.op_type for n in onnx.load(str(first)).graph.node}  # eager attention: no NaN guard
    monkeypatch.setattr("rag.embed.bert_graph.write", lambda *a: pytest.fail("exported twice"))
    assert cached_export(model, tmp_path) == first


def test_the_graph_written_without_torch_gives_torchs_export(tmp_path):
    """The packaged BERT model's ONNX file is written from its weights (no torch at answer time); torch's own
    exporter, kept for other architectures, gives the same hidden states."""
    import onnxruntime
    from tokenizers import Tokenizer

    from rag.embed import bert_graph
    from rag.embed.onnx_export import INPUTS, export

    model = resolve_model_path("all-MiniLM-L6-v2")
    assert bert_graph.supported(model)
    bert_graph.write(model, tmp_path / "ours.onnx", INPUTS, "last_hidden_state")
    export(model, tmp_path / "torch.onnx")
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.enable_padding()
    tokenizer.enable_truncation(256)
    encodings = tokenizer.encode_batch(TEXTS)
    feeds = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
             "token_type_ids": [e.type_ids for e in encodings]}
    feeds = {name: np.array(value, dtype=np.int64) for name, value in feeds.items()}
    ours, theirs = (onnxruntime.InferenceSession(str(tmp_path / f"{name}.onnx"), providers=["CPUExecutionProvider"])
                    .run(None, feeds)[0] for name in ("ours", "torch"))
    attended = feeds["attention_mask"][..., None].astype(bool)
    assert ours.shape == theirs.shape and np.abs(np.where(attended, ours - theirs, 0)).max() < 1e-5


def test_a_backend_whose_packages_are_not_installed_says_what_to_install(monkeypatch):
    import importlib.util

    from rag.embed import EMBEDDERS

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(RagError, match=r"needs torch.*pip install 'rag-news\[torch\]'"):
        EMBEDDERS.create("sentence-transformers", "all-MiniLM-L6-v2", None)


def test_unknown_backend_and_model_are_clear_errors(tmp_path):
    with pytest.raises(RagError, match="unknown embedder 'word2vec'"):
        load_embedder("word2vec", "all-MiniLM-L6-v2", tmp_path)
    with pytest.raises(RagError, match="neither a packaged model"):
        load_embedder("onnx", "no/such-model", tmp_path)
