"""Read the corpus folder into documents (stage 1 of the pipeline)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.clean import Block, clean
from rag.errors import RagError

SUFFIXES = (".txt", ".md")


@dataclass
class Document:
    doc_id: str  # file name without its suffix
    path: str
    text: str  # the original file, unchanged: citation offsets index into it
    title: str
    blocks: list[Block]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def document_from_text(doc_id: str, text: str, path: str = "") -> Document:
    if not text.strip():
        raise RagError(f"document {doc_id!r} is empty")
    if "\x00" in text:
        raise RagError(f"document {doc_id!r} contains NUL characters: binary data, not text")
    title, blocks = clean(text)
    if not any(b.kind in ("body", "subtitle") for b in blocks):
        raise RagError(f"document {doc_id!r} has no article text left after cleaning")
    return Document(doc_id=doc_id, path=path, text=text, title=title or doc_id, blocks=blocks)


def decode_text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RagError(f"{source}: not valid UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_document(path: Path) -> Document:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RagError(f"{path}: cannot read file ({exc.strerror})") from None
    return document_from_text(path.stem, decode_text(data, str(path)), str(path))


def corpus_files(source_dir: Path) -> list[Path]:
    if not source_dir.is_dir():
        raise RagError(f"corpus folder not found: {source_dir}")
    files = sorted(p for p in source_dir.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise RagError(f"no .txt or .md files in corpus folder {source_dir}")
    return files


def load_corpus(source_dir: Path) -> list[Document]:
    return [read_document(path) for path in corpus_files(source_dir)]


def corpus_fingerprint(source_dir: Path) -> str:
    """Hash of every file's name and bytes: any edit, addition or removal changes it."""
    digest = hashlib.sha256()
    for path in corpus_files(source_dir):
        digest.update(path.name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
