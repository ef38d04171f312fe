"""Article files that are not plain text: the text a reader sees, extracted when the file is read. Citation
offsets index into that extracted text (what GET /documents/{id} returns), not into the file's bytes.
Each extractor is a maintained library, imported only when such a file turns up."""

from __future__ import annotations

import io
from pathlib import Path

from rag.errors import RagError

TEXT = (".txt", ".md")
CONVERTED = (".html", ".htm", ".pdf", ".docx")


def converted_text(name: str, data: bytes) -> str:
    suffix = Path(name).suffix.lower()
    try:
        text = {".html": html_text, ".htm": html_text, ".pdf": pdf_text, ".docx": docx_text}[suffix](data)
    except RagError:
        raise
    except Exception as exc:  # a damaged or encrypted file: the libraries raise many kinds
        raise RagError(f"{name}: cannot read this {suffix[1:].upper()} file ({type(exc).__name__}: {exc})") from None
    if not text.strip():
        raise RagError(f"{name}: no text found in it" + (" (a scan without a text layer?)" if suffix == ".pdf" else ""))
    return text


def html_text(data: bytes) -> str:
    """The article's main text (trafilatura drops menus, footers and ads), under its title."""
    import trafilatura

    body = trafilatura.extract(data, include_comments=False, include_tables=True, favor_precision=True) or ""
    metadata = trafilatura.extract_metadata(data)
    title = (metadata.title or "").strip() if metadata else ""
    return f"{title}\n\n{body.strip()}\n" if title and body.strip() else body


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip() + "\n"


def docx_text(data: bytes) -> str:
    from docx import Document

    paragraphs = [p.text.strip() for p in Document(io.BytesIO(data)).paragraphs]
    return "\n\n".join(p for p in paragraphs if p) + "\n"
