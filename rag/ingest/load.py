"""Read the corpus folder into documents (stage 1 of the pipeline)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rag.ingest.clean import Block, clean, front_matter_end
from rag.errors import RagError, TooLong
from rag.ingest.formats import MAX_CHARS, MAX_FILE_BYTES, is_converted, listed, suffixes

MAX_DOCUMENT_CHARS = MAX_CHARS  # a longer file is refused rather than tying up a worker for minutes


@dataclass
class Document:
    doc_id: str  # file name without its suffix
    path: str
    text: str  # the original file, unchanged: citation offsets index into it
    title: str
    blocks: list[Block]
    meta: dict[str, str] = field(default_factory=dict)  # published (YYYY-MM-DD), url, byline: when the file says

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


SIDECAR = ".meta.json"  # beside an article file, e.g. port.pdf.meta.json: its metadata
# Front matter and sidecar keys (HTML/DOCX fields are in formats.py) that mean each piece of metadata.
META_KEYS = {"published": ("published", "date", "published_at", "pubdate"), "url": ("url", "source", "link"),
             "byline": ("byline", "author", "authors", "by")}


def front_matter(text: str) -> dict[str, str]:
    """published / url / byline from a Markdown front matter block (`key: value` lines between `---` lines)."""
    end = front_matter_end(text)
    pairs = {}
    for line in text[:end].splitlines()[1:-1]:
        key, colon, value = line.partition(":")
        if colon:
            pairs[key.strip().lower()] = value.strip().strip("'\"")
    return named_meta(pairs)


def named_meta(pairs: Mapping) -> dict[str, str]:
    """published / url / byline from key-value pairs that may name them any of the ways META_KEYS lists."""
    return tidy_meta({name: next((pairs[k] for k in keys if pairs.get(k)), "") for name, keys in META_KEYS.items()})


META_LIMITS = {"url": 2000, "byline": 500}  # characters; a longer value is no URL or byline, and is left out


def tidy_meta(meta: dict[str, str | None]) -> dict[str, str]:
    """Only what is there, printable, and within META_LIMITS (from an upload, a sidecar or the file itself alike);
    a published date as YYYY-MM-DD (a date that cannot be read is left out)."""
    tidy = {name: " ".join("".join(c for c in str(value) if c.isprintable() or c.isspace()).split())
            for name, value in meta.items() if value and str(value).strip()}
    tidy = {name: value for name, value in tidy.items() if value and len(value) <= META_LIMITS.get(name, 2000)}
    if "published" in tidy:
        try:
            tidy["published"] = date.fromisoformat(tidy["published"][:10]).isoformat()
        except ValueError:
            del tidy["published"]
    return tidy


def document_from_text(doc_id: str, text: str, path: str = "", meta: dict[str, str] | None = None) -> Document:
    if not text.strip():
        raise RagError(f"document {doc_id!r} is empty")
    if "\x00" in text:
        raise RagError(f"document {doc_id!r} contains NUL characters: binary data, not text")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise TooLong(f"document {doc_id!r} has {len(text):,} characters; the most one document may have is "
                      f"{MAX_DOCUMENT_CHARS:,}: split it into several")
    text = re.sub(r"\r(?!\n)", "\n", text)  # old Mac line ends: same length, so offsets still index the file
    title, blocks = clean(text)
    if not any(b.kind in ("body", "subtitle") for b in blocks):
        raise RagError(f"document {doc_id!r} has no article text left after cleaning")
    return Document(doc_id=doc_id, path=path, text=text, title=title or doc_id, blocks=blocks,
                    meta=(meta or {}) | front_matter(text))


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 (a byte-order mark dropped), else the encoding charset-normalizer detects (Latin-1, cp1252, …)."""
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RagError(f"{source}: contains NUL bytes: binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        from charset_normalizer import from_bytes

        guess = from_bytes(data).best()
        if guess is None:
            raise RagError(f"{source}: not text in any encoding we recognise ({exc.reason} at byte {exc.start} "
                           "as UTF-8)") from None
        return str(guess).removeprefix("\ufeff")


def read_document(path: Path, doc_id: str | None = None) -> Document:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:  # counted before reading: a 700 MB file is never held in memory
            raise TooLong(f"{path}: {size:,} bytes, over the {MAX_FILE_BYTES:,} one article file may have")
        data = path.read_bytes()
    except OSError as exc:
        raise RagError(f"{path}: cannot read file ({exc.strerror})") from None
    document = document_from_text(doc_id or path.stem, file_text(path.name, data), str(path),
                                  file_meta(path.name, data))
    document.meta |= sidecar_meta(path)
    return document


def sidecar_meta(path: Path) -> dict[str, str]:
    """published / url / byline from `<article file>.meta.json` beside it, for files that cannot carry their own
    (a .txt, a PDF); it wins over what the file says."""
    sidecar = sidecar_path(path)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RagError(f"{sidecar}: not a readable JSON object ({exc})") from None
    if not isinstance(data, dict):
        raise RagError(f"{sidecar}: must hold a JSON object such as {{\"published\": \"2025-03-04\"}}")
    return named_meta(data)


def file_meta(name: str, data: bytes) -> dict[str, str]:
    """published / url / byline that an HTML or DOCX file carries in its own fields (Markdown's front matter is
    read from the text)."""
    if not is_converted(Path(name).suffix):
        return {}
    from rag.ingest.sandbox import converted

    try:
        return tidy_meta(converted(name, data)[1])
    except RagError:  # a file that cannot be read: reading its text says so
        return {}


def file_text(name: str, data: bytes) -> str:
    """The text of an article file, by its suffix: plain text decoded, HTML, PDF and DOCX extracted."""
    if is_converted(Path(name).suffix):
        from rag.ingest.sandbox import converted

        return converted(name, data)[0]
    return decode_text(data, name)


SAMPLE = Path("seeds")  # the project's sample articles, copied into the default corpus folder on first use


def sample_corpus(settings, log: Callable[[str], None]) -> None:
    """The default corpus folder (data/articles), made on first use as a copy of the sample articles in seeds/:
    writes (uploads, deletions) then land in a folder of their own that git ignores, never in the checkout."""
    folder = settings.source_dir
    if "source_dir" in settings.model_fields_set or folder.exists() or not SAMPLE.is_dir():
        return
    import shutil

    folder.mkdir(parents=True)
    for path in sorted(SAMPLE.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            shutil.copy2(path, folder / path.name)
    log(f"copied the sample articles from {SAMPLE}/ into {folder}/ (uploads and deletions go there; {SAMPLE}/ "
        "stays as it is)")


def corpus_files(source_dir: Path) -> list[Path]:
    """The article files of the folder; a link that leads outside it is never one (it could expose any file)."""
    if not source_dir.is_dir():
        raise RagError(f"corpus folder not found: {source_dir}")
    files = sorted(p for p in source_dir.iterdir() if p.is_file() and p.suffix.lower() in suffixes()
                   and not outside(p, source_dir))
    if not files:
        raise RagError(f"no article files ({listed()}) in corpus folder {source_dir}")
    return files


def document_ids(files: list[Path], known: Mapping[str, str] | None = None,
                 taken: Collection[str] = ()) -> dict[Path, str]:
    """The file name without its suffix; the whole name where two new files share a stem (alpha.txt, alpha.md)
    or the stem is already an id. `known` (file name -> id, from the index) keeps every indexed file's id, so
    a file added beside another never renames it; `taken` are ids held by documents without a file."""
    known = known or {}
    ids = {path: known[path.name] for path in files if path.name in known}
    taken = set(taken) | set(ids.values())
    new = [path for path in files if path not in ids]
    stems = Counter(path.stem for path in new)
    for path in new:
        ids[path] = path.stem if stems[path.stem] == 1 and path.stem not in taken else path.name
    return ids


def load_corpus(source_dir: Path, log: Callable[[str], None] = lambda message: None,
                known: Mapping[str, str] | None = None) -> list[Document]:
    """Every document that can be read; each file that cannot is skipped and logged with its reason. `known`
    (file name -> id) keeps the ids an earlier index gave (see document_ids)."""
    files = corpus_files(source_dir)
    others = sorted(p.name for p in source_dir.iterdir() if p.is_file() and p.suffix.lower() not in suffixes()
                    and not p.name.startswith(".") and not p.name.endswith(SIDECAR))
    links = sorted(p.name for p in source_dir.iterdir() if p.is_symlink() and outside(p, source_dir))
    if links:
        log(f"skipped {len(links)} link(s) to files outside {source_dir}: {', '.join(links[:5])}")
    if others:
        log(f"skipped {len(others)} file(s) of other types (not {listed()}): {', '.join(others[:5])}"
            + (" …" if len(others) > 5 else ""))
    documents, problems = [], []
    for path, doc_id in document_ids(files, known).items():
        try:
            documents.append(read_document(path, doc_id))
        except RagError as exc:
            problems.append(str(exc))
            log(f"skipped {path.name}: {exc}")
    if not documents:
        raise RagError(f"nothing in {source_dir} could be indexed: " + "; ".join(problems[:3]))
    return documents


def corpus_hashes(source_dir: Path) -> dict[str, str]:
    """sha256 of every article file's bytes, by file name: what the index records, so any edit, addition or
    removal (by the API, by hand, by another process) is found, file by file."""
    hashes = {}
    for path in corpus_files(source_dir):
        sidecar = sidecar_path(path)
        # ctime too: a chmod that makes an unreadable file readable changes it, and nothing else does
        stats = [(p.stat().st_mtime_ns, p.stat().st_ctime_ns, p.stat().st_size) for p in (path, sidecar)
                 if p.exists()]
        key = (str(path), *stats)
        if key not in _HASHES:  # unchanged size and times: reuse the last hash (polling stays cheap)
            if len(_HASHES) > 100_000:
                _HASHES.clear()
            _HASHES[key] = digest_of(path, sidecar if len(stats) > 1 else None)
        hashes[path.name] = _HASHES[key]
    return hashes


def digest_of(path: Path, sidecar: Path | None) -> str:
    """The file's digest; a file that cannot be read (or is too large) gets a marker instead, so that it counts
    as changed, is skipped with its reason when read, and stops nothing else."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return f"too large: {path.stat().st_size}"
        return article_digest(path.read_bytes(), sidecar.read_bytes() if sidecar else None)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def outside(path: Path, folder: Path) -> bool:
    """A link whose target lies outside the folder."""
    return path.is_symlink() and not path.resolve().is_relative_to(folder.resolve())


def corpus_changes(known: Mapping[str, str], current: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(changed, removed): the file names whose hash is new or differs from the one the index `known`s, and
    those it knows that are gone. Both stores bring in a folder's changes from this one diff."""
    changed = sorted(name for name, digest in current.items() if known.get(name) != digest)
    return changed, sorted(set(known) - set(current))


def article_digest(data: bytes, sidecar: bytes | None) -> str:
    """An article file's hash as the index records it: its metadata file counts as part of it, so editing that
    re-indexes the article."""
    digest = hashlib.sha256(data)
    if sidecar is not None:
        digest.update(sidecar)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR)


_HASHES: dict[tuple[str, int, int], str] = {}
