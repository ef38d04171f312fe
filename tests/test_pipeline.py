import re

import numpy as np

from hypothesis import given
from hypothesis import strategies as st

from rag.errors import RagError
from rag.index import Store
from rag.inputs import QUESTION_PATTERN, validate_question
from rag.pipeline import Pipeline, stale_reason
from rag.settings import Settings


def open_quietly(settings, messages, **kwargs):
    return Pipeline.open(settings, log=messages.append, **kwargs)


def test_changed_seed_makes_the_index_stale_and_rebuilds(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    messages = []
    first = open_quietly(settings, messages)
    assert "no index" in messages[-2]
    messages.clear()
    open_quietly(settings, messages)
    assert messages == []  # fresh index: loaded, not rebuilt

    path = corpus / "002_a41762f22f1f4beb.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("62.6 billion KRW", "99.9 billion KRW"), encoding="utf-8")
    assert stale_reason(first.store, settings, first.embedder) is not None
    rebuilt = open_quietly(settings, messages)
    assert "stale" in messages[0] and "changed" in messages[0]
    assert rebuilt.ask("How much national budget did Gwangju secure this year?").answer.startswith("99.9 billion KRW")


def test_changed_chunk_setting_makes_the_index_stale(corpus, tmp_path):
    messages = []
    open_quietly(Settings(source_dir=corpus, index_dir=tmp_path / "index"), messages)
    messages.clear()
    open_quietly(Settings(source_dir=corpus, index_dir=tmp_path / "index", chunk_tokens=64), messages)
    assert "chunk_tokens" in messages[0]
    assert Store.load(tmp_path / "index").manifest["chunk_tokens"] == 64


def test_damaged_index_is_rebuilt_not_crashed_on(corpus, tmp_path):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    messages = []
    open_quietly(settings, messages)
    generation = settings.index_dir / (settings.index_dir / "CURRENT").read_text()
    (generation / "vectors.faiss").write_bytes(b"garbage")
    messages.clear()
    pipeline = open_quietly(settings, messages)
    assert "damaged" in messages[0] or "cannot be read" in messages[0]
    assert pipeline.store.vectors.ntotal == len(pipeline.store.chunks) > 0


def test_result_has_timings_for_every_stage(pipeline):
    result = pipeline.ask("How many Korean students are enrolled at Zhejiang University?")
    assert set(result.timings_ms) == {"retrieve", "answer", "total"}
    assert result.timings_ms["total"] >= result.timings_ms["retrieve"]


@given(st.text(alphabet=st.sampled_from(" \t\n\x0b\x1c\x1f\x00\x07\x7f\u2003aé?"), max_size=12)
       | st.builds(lambda pad, n: pad + "a" * n + pad, st.sampled_from(["", " ", "\n"]), st.integers(1995, 2005)))
def test_the_published_question_pattern_says_exactly_what_is_accepted(question):
    try:
        validate_question(question)
        accepted = True
    except RagError:
        accepted = False
    assert accepted == (re.fullmatch(QUESTION_PATTERN, question) is not None)


def test_overlapped_chunking_and_embedding_keeps_every_chunk_with_its_vector(pipeline, embedder, nlp):
    from rag.load import load_corpus
    from rag.pipeline import chunk_and_embed

    documents = load_corpus(pipeline.settings.source_dir)
    chunks, vectors = chunk_and_embed(documents, nlp, embedder, pipeline.settings, progress=False)
    assert [c.id for c in chunks] == [c.id for c in pipeline.store.chunks]
    assert np.allclose(vectors, embedder.encode([c.embedding_text() for c in chunks]), atol=1e-5)
