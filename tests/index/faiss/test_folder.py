"""The FAISS store's writes (rag/index/faiss/folder.py): the corpus folder and the index change together."""

import pytest

from rag.index.faiss import folder
from rag.ingest.load import corpus_hashes
from rag.pipeline import Pipeline
from rag.settings import Settings
from tests.conftest import private_copy
from tests.ingest.test_formats import BODY, TITLE, pdf_bytes

ARTICLE = f"{TITLE}\n\n{BODY}\n"
META = {"published": "2031-05-06", "byline": "Kim Minji"}


@pytest.fixture
def writable(pipeline, tmp_path):
    corpus, index = private_copy(pipeline, tmp_path)
    return Pipeline.open(Settings(source_dir=corpus, index_dir=index), log=lambda m: None)


def test_a_put_records_the_hash_the_folder_has_so_the_next_sync_finds_nothing(writable):
    writable.add_document("port", ARTICLE, meta=META)
    corpus = writable.settings.source_dir
    assert (corpus / "port.txt").read_text(encoding="utf-8") == ARTICLE
    assert (corpus / "port.txt.meta.json").exists()
    recorded = writable.index.current.manifest["corpus"]
    assert recorded["port.txt"] == corpus_hashes(corpus)["port.txt"]
    assert not writable.sync()  # the sidecar counts in both hashes the same way


def test_replacing_text_with_an_upload_removes_the_old_file_and_its_sidecar(writable):
    corpus = writable.settings.source_dir
    writable.add_document("port", ARTICLE, meta=META)
    pdf = pdf_bytes([TITLE, BODY[:80]])
    writable.add_document("port", f"{TITLE}\n\n{BODY[:80]}\n", original=("port.pdf", pdf))
    assert (corpus / "port.pdf").read_bytes() == pdf
    assert not (corpus / "port.txt").exists() and not (corpus / "port.txt.meta.json").exists()
    assert writable.store.documents["port"].path.endswith("port.pdf") and not writable.sync()


def test_a_failed_save_puts_back_the_file_and_the_sidecar_it_replaced(writable, monkeypatch):
    corpus = writable.settings.source_dir
    writable.add_document("port", ARTICLE, meta=META)
    before = {name: (corpus / name).read_bytes() for name in ("port.txt", "port.txt.meta.json")}

    def full(store, index_dir):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(folder, "save_locked", full)
    with pytest.raises(OSError):
        writable.add_document("port", ARTICLE.replace("1,400", "2,800"), meta={"byline": "Seo Harin"})
    assert {name: (corpus / name).read_bytes() for name in before} == before
    assert writable.store.documents["port"].meta == META  # the served index is the one before the write
    monkeypatch.undo()
    assert not writable.sync()


def test_a_re_upload_without_fields_takes_the_files_own_metadata_again(writable):
    """An earlier upload's published date outlived the next upload, which gave none."""
    corpus = writable.settings.source_dir
    writable.add_document("port", ARTICLE, meta=META)
    assert writable.store.documents["port"].meta == META
    writable.add_document("port", f"---\nauthor: Seo Harin\n---\n{ARTICLE}")
    assert not (corpus / "port.txt.meta.json").exists()
    assert writable.store.documents["port"].meta == {"byline": "Seo Harin"} and not writable.sync()
    writable.add_document("port", ARTICLE, meta={"byline": "Lee"})
    assert writable.store.documents["port"].meta == {"byline": "Lee"}  # no published kept from the first upload
