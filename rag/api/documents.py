"""Documents: list, read, add or replace (JSON or a file upload), delete."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from rag.api.common import ERRORS, WRITE_ERRORS, HTTPProblem, admitted, current, describe, errors, may_write
from rag.api.schemas import DocumentIn, DocumentMeta, DocumentOut, DocumentSummary
from rag.ingest.formats import FORMATS, listed, suffixes
from rag.ingest.load import Document, decode_text, file_text

# POST /documents takes JSON or a multipart file upload; FastAPI cannot declare both from one signature.
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "description": "An article file: "
                                 + ", ".join(f"{suffix} ({f.kind})" for suffix, f in FORMATS.items())
                                 + ". Text files are decoded (their encoding detected); the others' text is extracted."},
                        "doc_id": {"type": "string", "description": "Defaults to the file name without suffix."},
                        **{name: {"type": "string", "description": field.description}
                           for name, field in DocumentMeta.model_fields.items()},
                    },
                },
                "encoding": {"file": {"contentType": ", ".join(dict.fromkeys(f.media_type for f in FORMATS.values()))}},
            },
        },
    }
}


router = APIRouter()


# Handlers that read the store are plain `def` (FastAPI's thread pool) or hand the work to a worker: a database
# store blocks, and an outage must not hold the event loop.
@router.get("/documents", response_model=list[DocumentSummary], responses=errors(503))
def documents(request: Request):
    store = current(request).store
    counts = store.chunk_counts()  # one pass, not one per document
    return [summary(document, counts.get(doc_id, 0)) for doc_id, document in store.documents.items()]


@router.get("/documents/{doc_id}", response_model=DocumentOut, responses=ERRORS)
def document(doc_id: str, request: Request):
    store = current(request).store
    found = store.documents.get(doc_id)  # a lookup by id, never a path: ids cannot reach the file system
    if found is None:
        raise HTTPProblem(404, f"no document with id {doc_id!r}")
    chunks = store.chunk_counts().get(doc_id, 0)
    return DocumentOut(**summary(found, chunks).model_dump(), text=found.text, blocks=[vars(b) for b in found.blocks])


@router.post("/documents", response_model=DocumentSummary, status_code=201,
             responses={200: {"model": DocumentSummary, "description": "Replaced an existing document."},
                        **WRITE_ERRORS},
             dependencies=[Depends(may_write)], openapi_extra=UPLOAD_BODY)
async def add_document(request: Request, response: Response):
    """Add a document (201) or replace one (200, `replaced: true`): JSON `{doc_id, text}`, or a multipart upload
    with `file` (and `doc_id`); an uploaded .pdf, .docx or .html is kept in the corpus as it came. Either may
    give `published`, `url` and `byline`, which win over what the file says."""
    doc_id, text, original, meta = await document_from_request(request)
    pipeline = current(request)

    def add() -> DocumentSummary:
        replaced = doc_id in pipeline.store.documents
        added = pipeline.add_document(doc_id, text, original, meta)
        return summary(added, pipeline.store.chunk_counts().get(added.doc_id, 0), replaced)

    added = await admitted(request.app, add)
    response.status_code = 200 if added.replaced else 201
    return added


@router.delete("/documents/{doc_id}", status_code=204, responses=WRITE_ERRORS, dependencies=[Depends(may_write)])
async def delete_document(doc_id: str, request: Request):
    await admitted(request.app, current(request).remove_document, doc_id)


async def document_from_request(request: Request) -> tuple[str, str, tuple[str, bytes] | None, dict[str, str]]:
    """The id, the text, the uploaded file (name, bytes) when there is one, and the metadata given with it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=8)
        upload = form.get("file")
        if upload is None:
            raise HTTPProblem(422, "file: a multipart upload needs a 'file' part")
        if isinstance(upload, str):  # a part without a file name arrives as a plain field
            name, data = "", upload.encode("utf-8")
        else:
            name, data = upload.filename or "", await upload.read()
        if not data:
            raise HTTPProblem(400, f"file: {name or 'the upload'} is empty (0 bytes)")
        if Path(name).suffix and Path(name).suffix.lower() not in suffixes():  # no suffix: read as text
            raise HTTPProblem(415, f"file: {name} is not a supported type; send one of {listed()}")
        doc_id = form.get("doc_id") or Path(name).stem
        if not isinstance(doc_id, str) or not doc_id:
            raise HTTPProblem(422, "doc_id: give one, or upload a file with a name")
        try:
            meta = DocumentMeta.model_validate({k: form[k] for k in DocumentMeta.model_fields if form.get(k)}).given()
        except ValidationError as exc:
            raise HTTPProblem(422, describe(exc.errors())) from None
        # Extraction (PDF, DOCX, HTML) is CPU work: on a worker thread, behind the queue, never on the event loop.
        if not name:
            return doc_id, decode_text(data, "the upload"), None, meta
        return doc_id, await admitted(request.app, file_text, name, data), (name, data), meta
    if content_type == "application/json":
        try:
            body = DocumentIn.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPProblem(422, describe(exc.errors())) from None
        return body.doc_id, body.text, None, body.given()
    raise HTTPProblem(415, "send the document as application/json {doc_id, text} or multipart/form-data with 'file'")



def summary(document: Document, chunks: int, replaced: bool = False) -> DocumentSummary:
    return DocumentSummary(doc_id=document.doc_id, title=document.title, chunks=chunks, characters=len(document.text),
                           replaced=replaced, **document.meta)
