import numpy as np
import pytest

from rag.index.faiss import persist as index_module
from rag.errors import IndexCorrupt, IndexMissing
from rag.index.faiss.persist import load, save
from rag.index.faiss.build import build_store, open_store
from rag.settings import Settings


@pytest.fixture
def built(corpus, tmp_path, embedder):
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index")
    store = build_store(settings, embedder, progress=False)
    save(store, settings.index_dir)
    return settings, store


def test_round_trip(built):
    settings, store = built
    loaded = load(settings.index_dir)
    assert loaded.vectors.ntotal == len(loaded.chunks) == len(store.chunks)
    assert [c.id for c in loaded.chunks] == [c.id for c in store.chunks]
    assert loaded.manifest["embed_model"] == "all-MiniLM-L6-v2" and loaded.manifest["dimension"] == 384
    query = np.ones(384, dtype=np.float32) / np.sqrt(384)
    assert loaded.search(query, 3) == store.search(query, 3)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissing, match="rag index"):
        load(tmp_path / "nothing")


def test_crash_mid_write_leaves_previous_index_loadable(built, monkeypatch):
    settings, store = built
    before = [c.id for c in load(settings.index_dir).chunks]
    store.chunks = store.chunks[:3]  # a different index that never finishes writing

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(index_module, "_write_jsonl", crash)
    with pytest.raises(KeyboardInterrupt):
        save(store, settings.index_dir)
    assert [c.id for c in load(settings.index_dir).chunks] == before
    assert not list(settings.index_dir.glob(".tmp-*"))


def test_truncated_file_is_reported_with_a_rebuild_hint(built):
    settings, _ = built
    generation = settings.index_dir / (settings.index_dir / "CURRENT").read_text()
    chunks_file = generation / "chunks.jsonl"
    chunks_file.write_bytes(chunks_file.read_bytes()[:100])
    with pytest.raises(IndexCorrupt, match="rebuild"):
        load(settings.index_dir)


@pytest.mark.parametrize("pointer", [b"\xff\xfe\x00garbage", b"../../etc", b"gen-999999"])
def test_a_damaged_current_pointer_is_index_damage(built, pointer):
    settings, _ = built
    saved = (settings.index_dir / "CURRENT").read_bytes()
    (settings.index_dir / "CURRENT").write_bytes(pointer)
    try:
        with pytest.raises(IndexCorrupt, match="rebuild it with: rag index --rebuild"):
            load(settings.index_dir)
    finally:
        (settings.index_dir / "CURRENT").write_bytes(saved)


def test_a_same_size_edit_of_the_chunk_file_is_found_and_the_next_open_rebuilds(built, embedder):
    settings, _ = built
    generation = settings.index_dir / (settings.index_dir / "CURRENT").read_text()
    chunks_file = generation / "chunks.jsonl"
    text = chunks_file.read_text(encoding="utf-8")
    assert "62.6 billion" in text
    chunks_file.write_text(text.replace("62.6 billion", "92.6 billion", 1), encoding="utf-8")  # same size
    with pytest.raises(IndexCorrupt, match="chunks.jsonl was changed"):
        load(settings.index_dir)
    said = []
    reopened = open_store(settings, embedder, log=said.append)
    assert any("rebuild" in line or "building it" in line for line in said)
    assert not any("92.6 billion" in c.text for c in reopened.chunks)
    assert any("62.6 billion" in c.text for c in reopened.chunks)


def test_old_generations_are_cleaned_up(built):
    settings, store = built
    save(store, settings.index_dir)
    assert len(list(settings.index_dir.glob("gen-*"))) == 1


def test_bm25_stems_are_saved_with_the_generation_and_only_new_chunks_are_stemmed(built, monkeypatch):
    from rag.index import sparse

    settings, store = built
    fresh = load(settings.index_dir)
    assert fresh.stems == store.chunk_stems()  # read back from the generation, not recomputed
    stemmed = []
    real = sparse.stems
    monkeypatch.setattr(sparse, "stems", lambda texts: stemmed.extend(texts) or real(texts))
    question = "Who is the mayor of Gwangju?"
    before = fresh.lexical(question, 5)
    assert stemmed == [question]  # loading and searching stemmed only the question
    first = sorted(fresh.documents)[0]
    smaller = fresh.without_document(first)
    document = fresh.documents[first]
    chunks = [c for c in fresh.chunks if c.doc_id == first]
    vectors = np.stack([fresh.vectors.reconstruct(i) for i, c in enumerate(fresh.chunks) if c.doc_id == first])
    stemmed.clear()
    again = smaller.with_document(document, chunks, vectors)
    assert stemmed == [c.embedding_text() for c in chunks]  # the added document's chunks, nothing else
    rebuilt = type(again)(again.manifest, again.vectors, again.chunks, again.documents)  # stems from scratch
    assert again.stems == rebuilt.chunk_stems()
    assert [(h.chunk.id, h.score) for h in again.lexical(question, 5)] == [(h.chunk.id, h.score)
                                                                        for h in rebuilt.lexical(question, 5)]
    assert {h.chunk.id for h in again.lexical(question, 5)} == {h.chunk.id for h in before}


@pytest.mark.slow
def test_an_index_remembers_its_folder_and_refuses_another_without_a_rebuild(tmp_path, monkeypatch):
    """`rag index --source my-corpus --index my-index`, then `rag ask --index my-index` once re-synced that index
    to seeds/ and answered "I don't know"."""
    import shutil

    from rag.errors import RagError
    from rag.index.faiss.build import remembered_source
    from rag.settings import Settings
    from tests.conftest import ROOT
    from tests.test_cli import rag

    corpus = tmp_path / "my-corpus"
    corpus.mkdir()
    shutil.copy(next((ROOT / "seeds").glob("000_*.txt")), corpus)
    assert rag("index", "--source", str(corpus), "--index", str(tmp_path / "my-index"), tmp_path=tmp_path).returncode == 0
    monkeypatch.chdir(tmp_path)
    remembered = remembered_source(Settings(index_dir=tmp_path / "my-index"), rebuild=False)
    assert remembered.source_dir == corpus.resolve()
    with pytest.raises(RagError, match="was built from .*my-corpus.*rag index --rebuild"):
        remembered_source(Settings(index_dir=tmp_path / "my-index", source_dir=ROOT / "seeds"), rebuild=False)
    assert remembered_source(Settings(index_dir=tmp_path / "my-index", source_dir=ROOT / "seeds"),
                             rebuild=True).source_dir == ROOT / "seeds"
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}  # no RAG_SOURCE_DIR
    asked = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "Who is the president of Zhejiang University?",
                            "--index", "my-index"], cwd=tmp_path, env=environment, capture_output=True, text=True,
                           timeout=300)
    assert asked.returncode == 0 and "Ma Yanming" in asked.stdout and "added or changed" not in asked.stderr


@pytest.mark.slow
def test_a_file_changed_at_its_own_size_is_found_at_load(tmp_path):
    """Floats overwritten in vectors.faiss (same size) once loaded silently, top score -71,598,600."""
    from tests.conftest import SEEDS

    settings = Settings(source_dir=SEEDS, index_dir=tmp_path / "index")
    from rag.embed import load_embedder

    embedder = load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)
    generation = save(build_store(settings, embedder, progress=False), settings.index_dir)
    vectors = generation / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[-400:-200] = b"\x7f" * 200
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexCorrupt, match="vectors.faiss was changed"):
        load(settings.index_dir)


def test_a_full_disk_inside_the_vector_save_is_an_os_error_and_nothing_is_kept(built, monkeypatch):
    """faiss raised a RuntimeError with a C++ trace: a plain 500 from the API, 90 lines from rag index."""
    import errno

    settings, store = built
    before = (settings.index_dir / "CURRENT").read_text()

    def full(vectors, path):
        raise RuntimeError("Error in faiss::FileIOWriter::operator() at faiss/impl/io.cpp:111: "
                           "Error: 'ret == (n)' failed: write error in file: No space left on device")

    monkeypatch.setattr(index_module.faiss, "write_index", full)
    with pytest.raises(OSError) as raised:
        save(store, settings.index_dir)
    assert raised.value.errno == errno.ENOSPC
    assert (settings.index_dir / "CURRENT").read_text() == before
    assert not list(settings.index_dir.glob(".tmp-*"))
