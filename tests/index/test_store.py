import numpy as np
import pytest

from rag.index import persist as index_module
from rag.index.persist import IndexCorrupt, IndexMissing, load, save
from rag.index.build import build_store
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


def test_old_generations_are_cleaned_up(built):
    settings, store = built
    save(store, settings.index_dir)
    assert len(list(settings.index_dir.glob("gen-*"))) == 1
