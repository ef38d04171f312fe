"""HTML, PDF and DOCX articles: their text is extracted, indexed and cited like a .txt file's."""

import io

import pytest

from rag.errors import RagError
from rag.ingest.load import read_document

TITLE = "Busan opens a robotics port"
BODY = ("The city of Busan announced on Monday that it will open an automated robotics port in 2031. "
        "The port will cost 3.2 trillion won and employ 1,400 engineers.")


def pdf_bytes(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a text layer, written by hand (no PDF writer is a dependency)."""
    text = "BT /F1 11 Tf 40 800 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
               "/Contents 4 0 R >>", f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
               "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n{body}\nendobj\n".encode())
    start = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n".encode())
    return out.getvalue()


def built_docx(build) -> bytes:
    from docx import Document

    document = Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_bytes(paragraphs: list[str]) -> bytes:
    return built_docx(lambda document: [document.add_paragraph(paragraph) for paragraph in paragraphs])


HTML = f"""<html><head><title>{TITLE}</title></head><body>
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sports">Sports</a></nav>
<article><h1>{TITLE}</h1><p>{BODY}</p>
<p>Officials said the first ships would dock in the spring, and that local universities would train the staff.</p>
</article><footer>Copyright 2026 Example News. All rights reserved.</footer></body></html>"""


@pytest.mark.parametrize("name, data", [
    ("port.html", HTML.encode()),
    ("port.pdf", pdf_bytes([TITLE, *BODY.split(". ")])),
    ("port.docx", docx_bytes([TITLE, BODY])),
])
def test_text_is_extracted_with_the_title_and_without_page_furniture(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    document = read_document(tmp_path / name)
    assert document.doc_id == "port" and document.title == TITLE
    assert "3.2 trillion won" in document.text and "1,400 engineers" in document.text
    assert "Sports" not in document.text and "All rights reserved" not in document.text


def test_markdown_headings_lose_their_hashes(tmp_path):
    (tmp_path / "port.md").write_text(f"# {TITLE}\n\n{BODY}\n\n## Costs\n\nIt is expensive.\n")
    document = read_document(tmp_path / "port.md")
    assert document.title == TITLE
    assert all(not document.text[b.start : b.end].startswith("#") for b in document.blocks)


def test_a_damaged_or_empty_file_is_one_clear_error(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf")
    with pytest.raises(RagError, match="broken.pdf: cannot read this PDF file"):
        read_document(tmp_path / "broken.pdf")
    (tmp_path / "empty.docx").write_bytes(docx_bytes([]))
    with pytest.raises(RagError, match="empty.docx: no text found"):
        read_document(tmp_path / "empty.docx")


@pytest.mark.slow
def test_a_pdf_article_is_answered_and_cited_in_its_extracted_text(tmp_path):
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.pdf").write_bytes(pdf_bytes([TITLE, *BODY.split(". ")]))
    (corpus / "page.html").write_bytes(HTML.replace("Busan", "Ulsan").replace("3.2", "1.1").encode())
    pipeline = Pipeline.open(Settings(source_dir=corpus, index_dir=tmp_path / "index"), log=lambda m: None)
    result = pipeline.ask("How much will the Busan robotics port cost?")
    citation = result.citations[0]
    assert result.answer.startswith("3.2 trillion") and citation.doc_id == "port"
    assert pipeline.store.documents["port"].text[citation.start : citation.end] == citation.quote


def test_pdf_lines_are_rebuilt_into_paragraphs_so_sentences_run_across_line_breaks():
    from rag.ingest.formats import converted_text

    lines = ["Busan opens a robotics port",
             "The city of Busan announced on Monday that it will open an",
             "automated robotics port in 2031. The port will cost 3.2 trillion",
             "won and employ 1,400 engineers. Critics called the state-",
             "owned port too costly.",
             "The mayor said the port would pay for itself within ten years",
             "of opening."]
    blocks = converted_text("port.pdf", pdf_bytes(lines)).strip().split("\n\n")
    assert blocks == [
        "Busan opens a robotics port",
        "The city of Busan announced on Monday that it will open an automated robotics port in 2031. The port will "
        "cost 3.2 trillion won and employ 1,400 engineers. Critics called the state-owned port too costly.",
        "The mayor said the port would pay for itself within ten years of opening."]


def test_docx_tables_are_extracted_in_reading_order():
    from rag.ingest.formats import converted_text

    def build(document):
        document.add_paragraph("Gwangju published its budget.")
        table = document.add_table(rows=2, cols=2)
        for (row, column), text in {(0, 0): "year", (0, 1): "budget", (1, 0): "2025", (1, 1): "62.6 billion KRW"}.items():
            table.cell(row, column).text = text
        document.add_paragraph("The council approved it.")

    text = converted_text("budget.docx", built_docx(build))
    assert text.index("published") < text.index("62.6 billion KRW") < text.index("approved")
    assert "year 2025: budget 62.6 billion KRW." in text  # the row with its headers, one sentence


def test_a_table_row_stays_with_its_header_so_its_figure_answers(tmp_path):
    """A DOCX table read cell by cell answered "How many people attended in 2023?" with 98,500 (the 2024 row)."""
    from rag.ingest.formats import table_sentences

    def build(document):
        document.add_paragraph("Gwangju AI Expo attendance")
        document.add_paragraph("The expo has grown every year since it began.")
        table = document.add_table(rows=3, cols=2)
        for row, cells in enumerate([("Year", "Attendance"), ("2023", "91,000"), ("2024", "98,500")]):
            for column, text in enumerate(cells):
                table.cell(row, column).text = text

    (tmp_path / "expo.docx").write_bytes(built_docx(build))
    text = read_document(tmp_path / "expo.docx").text
    assert "Year 2023: Attendance 91,000." in text and "Year 2024: Attendance 98,500." in text
    assert table_sentences([["Name", "Role", "City"], ["Kang", "", "Gwangju"]]) == ["Name Kang: City Gwangju."]
    html = ("<html><head><title>Expo</title></head><body><article><h1>Expo attendance</h1><p>The expo has grown every "
            "year since it began in Gwangju.</p><table><tr><th>Year</th><th>Attendance</th></tr><tr><td>2023</td>"
            "<td>91,000</td></tr><tr><td>2024</td><td>98,500</td></tr></table><p>Officials expect more next year.</p>"
            "</article></body></html>")
    (tmp_path / "expo.html").write_text(html)
    text = read_document(tmp_path / "expo.html").text
    assert "Year 2023: Attendance 91,000." in text and "|" not in text
    assert table_sentences([["only", "row"]]) == ["only. row."]


def test_a_docx_that_inflates_into_empty_paragraphs_is_refused_while_extracting():
    """A 40 kB file of 200,000 empty paragraphs once took minutes and gigabytes; now a limit stops it."""
    from docx.oxml import OxmlElement

    from rag.errors import TooLong
    from rag.ingest.formats import MAX_PARAGRAPHS, converted_text

    def build(document):
        for _ in range(4 * MAX_PARAGRAPHS):
            document.element.body.append(OxmlElement("w:p"))

    data = built_docx(build)
    assert len(data) < 100_000
    with pytest.raises(TooLong, match="over 50,000 paragraphs"):
        converted_text("bomb.docx", data)


def test_extraction_stops_at_the_character_limit(monkeypatch):
    from rag.ingest import formats
    from rag.errors import TooLong

    monkeypatch.setattr(formats, "MAX_CHARS", 1_000)
    data = built_docx(lambda document: [document.add_paragraph("word " * 100) for _ in range(50)])
    with pytest.raises(TooLong, match="over 1,000 characters"):
        formats.converted_text("long.docx", data)


def test_a_format_added_to_the_table_is_read_from_the_folder_accepted_by_uploads_and_offered_by_the_page(
        tmp_path, monkeypatch):
    """Adding a format is one row in rag/ingest/formats.py: here a made-up ".note" whose text sits after a "text:" line."""
    from fastapi.testclient import TestClient

    from rag.ingest import formats
    from rag.api.app import create_app
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    def note_text(data: bytes, budget: formats.Budget) -> str:
        return budget.take(data.decode("utf-8").split("text:\n", 1)[1])

    # isolated=False: extracted in this process (the extracting child imports formats.py, not this test's table)
    monkeypatch.setitem(formats.FORMATS, ".note", formats.Format("note", "text/x-note", note_text, isolated=False))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "port.note").write_bytes(f"kind: note\ntext:\n{TITLE}\n\n{BODY}\n".encode("utf-8"))
    (corpus / "other.txt").write_text("Gwangju opens an AI centre\n\nGwangju opened an AI centre on Monday.\n")
    settings = Settings(source_dir=corpus, index_dir=tmp_path / "index", allow_writes=True)
    pipeline = Pipeline.open(settings, log=lambda m: None)
    assert pipeline.store.documents["port"].title == TITLE  # read from the folder
    assert pipeline.ask("How many engineers will the Busan robotics port employ?").citations[0].doc_id == "port"

    with TestClient(create_app(settings, pipeline)) as client:
        page = client.get("/").text
        assert ".note" in page.split('id="upload"')[1].split(">")[0]  # the page's file picker offers it
        note = f"kind: note\ntext:\nBusan names a port chief\n\n{BODY} Its chief is Kim Minji.\n".encode("utf-8")
        added = client.post("/documents", files={"file": ("chief.note", note, "text/x-note")})
        assert added.status_code == 201 and added.json()["title"] == "Busan names a port chief"
        assert (corpus / "chief.note").read_bytes() == note  # kept as it came, like a PDF
        refused = client.post("/documents", files={"file": ("x.rtf", b"{\\rtf1}", "application/rtf")})
        assert refused.status_code == 415 and ".note" in refused.json()["error"]


def test_an_html_article_shows_its_title_once_and_keeps_its_paragraphs(tmp_path):
    """The page showed an HTML article's title twice, its paragraphs run together."""
    (tmp_path / "port.html").write_bytes(HTML.encode())
    document = read_document(tmp_path / "port.html")
    assert document.text.count(TITLE) == 1
    bodies = [b for b in document.blocks if b.kind == "body"]
    assert len(bodies) >= 2 and any("Officials said" in document.text[b.start:b.end] for b in bodies)
    assert not any("Officials said" in document.text[b.start:b.end] and "3.2 trillion" in document.text[b.start:b.end]
                   for b in bodies)
