"""The article file formats, in one table (FORMATS) that the corpus loader, the folder watcher, the HTTP upload,
the page and the store read: adding a format is one row here.

Files that are not plain text are read as the text a reader sees, extracted when the file is read. Citation
offsets index into that extracted text (what GET /documents/{id} returns), not into the file's bytes.
Each extractor is a maintained library, imported only when such a file turns up."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError, TooLong

# Limits checked while extracting, so a small file that inflates (a zip bomb, one content stream shared by
# every page) is refused early instead of holding a worker for minutes.
MAX_CHARS = 500_000  # about 80,000 words, the most one document may have
MAX_FILE_BYTES = 50_000_000  # the largest article file read from a corpus folder (checked before reading it)
MAX_INFLATED_BYTES = 20_000_000  # a .docx's members, unzipped
MAX_PAGES = 1_000
MAX_PARAGRAPHS = 50_000
MAX_SECONDS = 20.0
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"  # the namespace of .docx paragraphs


class Budget:
    """What one extraction has made so far; over a limit is TooLong (HTTP 413) at once."""

    def __init__(self, name: str):
        self.name, self.chars, self.started = name, 0, time.monotonic()

    def take(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > MAX_CHARS:
            raise TooLong(f"{self.name}: its text runs over {MAX_CHARS:,} characters, the most one document may "
                          "have: split it into several")
        if time.monotonic() - self.started > MAX_SECONDS:
            raise TooLong(f"{self.name}: extracting its text took over {MAX_SECONDS:.0f} s; refused")
        return text


@dataclass(frozen=True)
class Format:
    kind: str  # what users call it: "PDF"
    media_type: str
    text: Callable[[bytes, Budget], str] | None = None  # None: a text file, decoded as it is
    meta: Callable[[bytes], dict[str, str | None]] | None = None  # published / url / byline the file carries
    isolated: bool = True  # extracted in a child process with hard limits (rag/ingest/sandbox.py); False: in process


def suffixes() -> tuple[str, ...]:
    return tuple(FORMATS)


def listed() -> str:
    """The suffixes as users read them: ".txt, .md, .html, .htm, .pdf, .docx"."""
    return ", ".join(FORMATS)


def is_text(suffix: str) -> bool:
    found = FORMATS.get(suffix.lower())
    return found is not None and found.text is None


def is_converted(suffix: str) -> bool:
    """A format whose text is extracted; the corpus keeps such a file as it came."""
    found = FORMATS.get(suffix.lower())
    return found is not None and found.text is not None


def converted_text(name: str, data: bytes) -> str:
    suffix = Path(name).suffix.lower()
    extract = FORMATS[suffix].text
    try:
        text = extract(data, Budget(name))
    except (RagError, MemoryError):  # a limit, not a damaged file: the extracting child reports it as one
        raise
    except Exception as exc:  # a damaged or encrypted file: the libraries raise many kinds
        raise RagError(f"{name}: cannot read this {suffix[1:].upper()} file ({type(exc).__name__}: {exc})") from None
    if not text.strip():
        raise RagError(f"{name}: no text found in it" + (" (a scan without a text layer?)" if suffix == ".pdf" else ""))
    return text


def converted_meta(name: str, data: bytes) -> dict[str, str | None]:
    """published / url / byline from an HTML page's meta tags or a DOCX file's core properties; {} when the file
    has none or cannot be read (its text extraction reports that)."""
    found = FORMATS.get(Path(name).suffix.lower())
    if found is None or found.meta is None:
        return {}
    try:
        return found.meta(data)
    except Exception:  # a damaged file: converted_text says so when the text is read
        return {}


def html_meta(data: bytes) -> dict[str, str | None]:
    import trafilatura

    found = trafilatura.extract_metadata(data)
    return {"published": found.date, "url": found.url, "byline": found.author} if found else {}


def docx_meta(data: bytes) -> dict[str, str | None]:
    from docx import Document

    properties = Document(io.BytesIO(data)).core_properties
    return {"published": properties.created.date().isoformat() if properties.created else None,
            "byline": properties.author}


def html_text(data: bytes, budget: Budget) -> str:
    """The article's main text (trafilatura drops menus, footers and ads), under its title."""
    import trafilatura

    body = rows_as_sentences(trafilatura.extract(data, include_comments=False, include_tables=True,
                                                 favor_precision=True) or "")
    # trafilatura ends a paragraph with one line break; the cleaner reads a blank line as a paragraph's end
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    metadata = trafilatura.extract_metadata(data)
    title = (metadata.title or "").strip() if metadata else ""
    if lines and title and lines[0] == title:  # the page's own heading repeats its title: shown once
        lines = lines[1:]
    text = "\n\n".join(lines)
    return budget.take(f"{title}\n\n{text}\n" if title and text else text)


def pdf_text(data: bytes, budget: Budget) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if len(reader.pages) > MAX_PAGES:
        raise TooLong(f"{budget.name}: {len(reader.pages):,} pages; the most is {MAX_PAGES:,}")
    pages = [budget.take(paragraphs(page.extract_text() or "")) for page in reader.pages]
    return "\n\n".join(page for page in pages if page).strip() + "\n"


def paragraphs(page: str) -> str:
    """A PDF page's lines rebuilt into paragraphs (a PDF has lines, not paragraphs: a line break is not a sentence
    end). A line well short of the page's typical full line ends its paragraph, as a paragraph's last line or
    a heading does; a word hyphenated across lines is joined again, keeping its hyphen ("state-owned")."""
    lines = [" ".join(line.split()) for line in page.splitlines()]
    lengths = sorted(len(line) for line in lines if line)
    if not lengths:
        return ""
    full = lengths[(len(lengths) * 3) // 4]  # a typical full line
    blocks, current = [], ""
    for line in lines + [""]:
        if line:
            if current.endswith("-") and line[:1].islower():
                current += line
            else:
                current = f"{current} {line}" if current else line
        if current and (not line or len(line) < 0.7 * full):
            blocks.append(current)
            current = ""
    return "\n\n".join(blocks)


def docx_text(data: bytes, budget: Budget) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        inflated = sum(member.file_size for member in archive.infolist())
    if inflated > MAX_INFLATED_BYTES:
        raise TooLong(f"{budget.name}: unzips to {inflated:,} bytes; the most is {MAX_INFLATED_BYTES:,}")
    document = Document(io.BytesIO(data))
    if sum(1 for _ in document.element.body.iter(f"{{{WORD}}}p")) > MAX_PARAGRAPHS:
        raise TooLong(f"{budget.name}: over {MAX_PARAGRAPHS:,} paragraphs; split it into several")
    blocks = []
    # Paragraphs and tables in reading order (a table's figures are often the answer); each table row is one
    # sentence that carries its column headers, so a row's figure is never read beside another row's label.
    for element in document.element.body.iterchildren():
        if element.tag == f"{{{WORD}}}p":
            blocks.append(budget.take(Paragraph(element, document).text.strip()))
        elif element.tag == f"{{{WORD}}}tbl":
            rows = [[cell.text.strip() for cell in row.cells] for row in Table(element, document).rows]
            blocks += [budget.take(line) for line in table_sentences(rows)]
    return "\n\n".join(block for block in blocks if block) + "\n"


def rows_as_sentences(text: str) -> str:
    """trafilatura writes a table as Markdown rows ("| 2023 | 91,000 |"): each run of them becomes table_sentences."""
    lines, table, out = text.splitlines(), [], []
    for line in lines + [""]:
        if line.strip().startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):  # the |---| line under the header
                table.append(cells)
            continue
        if table:
            out += table_sentences(table)
            table = []
        out.append(line)
    return "\n".join(out[:-1])


def table_sentences(rows: list[list[str]]) -> list[str]:
    """A table as one sentence per row, each cell beside its column header: "Year 2023: Attendance 91,000;
    Budget 3.1bn." A table of one row, or whose first row is not a header, gives its rows' cells as they are."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        return [". ".join(cell for cell in row if cell) + "." for row in rows]
    header, sentences = rows[0], []
    for row in rows[1:]:
        pairs = [f"{label} {cell}".strip() for label, cell in zip(header, row) if cell]
        if pairs:
            first, rest = pairs[0], pairs[1:]
            sentences.append(f"{first}: {'; '.join(rest)}." if rest else f"{first}.")
    return sentences


FORMATS: dict[str, Format] = {
    ".txt": Format("plain text", "text/plain"),
    ".md": Format("Markdown", "text/markdown"),
    ".html": Format("HTML", "text/html", html_text, html_meta),
    ".htm": Format("HTML", "text/html", html_text, html_meta),
    ".pdf": Format("PDF", "application/pdf", pdf_text),
    ".docx": Format("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx_text,
                    docx_meta),
}
