"""The whole pipeline, top-down: load → chunk → embed → index (rag/index/) → retrieve → answer → cite.

`Pipeline.open` loads or builds the index; `ask` answers from one snapshot of it; the write methods chunk and
embed, and hand the rest to the store (rag/index/contract.py), which keeps the corpus and the index
together, one writer at a time across processes.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from datetime import date

from rag.answer import OPEN_ANSWERERS, Answerer, make_answerer
from rag.answer.route import choose_form
from rag.cite import cite
from rag.contracts import Hit, Result, abstain
from rag.errors import NoSuchDocument, RagError
from rag.embed import Embedder, load_embedder
from rag.index import open_index
from rag.index.prepare import chunk, log_to_stderr
from rag.index.contract import Index, Searchable
from rag.inputs import (foreign_script, validate_date, validate_doc_id, validate_k, validate_period,
                        validate_question)
from rag.ingest.load import Document, document_from_text, file_meta, tidy_meta
from rag.language.nlp import load_nlp
from rag.retrieve import Retriever, make_retriever
from rag.settings import Settings


class Pipeline:
    def __init__(self, settings: Settings, index: Index, embedder: Embedder, log: Callable[[str], None] = log_to_stderr):
        self.settings = settings
        self.index = index
        self.embedder = embedder
        self.nlp = load_nlp(settings.spacy_model)
        self.log = log
        self.snapshot = Snapshot(index.current, self)
        self._write_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = False, log: Callable[[str], None] = log_to_stderr) -> "Pipeline":
        """Load the models and the index, building or refreshing the index as needed.

        Args:
            settings: where the corpus and index are, and every backend choice (Settings() reads RAG_*).
            rebuild: rebuild the index from the corpus folder even when it is up to date.
            log: receives one line per thing worth saying (files skipped, index rebuilt and why).

        Returns:
            A pipeline ready to answer; its writes keep the corpus folder and the index in step.
        """
        embedder = load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)
        pipeline = cls(settings, open_index(settings, embedder, rebuild, log=log), embedder, log)
        # Models and index live until the process ends: keep the collector from walking them again and again
        # (pauses of about 170 ms every few questions were measured without this).
        gc.collect()
        gc.freeze()
        return pipeline

    @property
    def store(self) -> Searchable:
        return self.snapshot.store

    def retriever(self, mode: str | None = None) -> Retriever:
        return self.snapshot.retriever(mode)

    def answerer(self, name: str | None = None) -> Answerer:
        return self.snapshot.answerer(name)

    # --- changing the corpus while serving -----------------------------------------------------

    def add_document(self, doc_id: str, text: str, original: tuple[str, bytes] | None = None,
                     meta: dict[str, str] | None = None) -> Document:
        """Add or replace one document: the file first, then a new index generation, then the live swap.
        A failure while saving puts the corpus back; a crash leaves the file newer than the index, and the
        next start or sync brings it in.

        Args:
            doc_id: letters, digits, '.', '_' and '-'; an existing id is replaced.
            text: the article, its first line the headline (Markdown front matter becomes metadata).
            original: (file name, bytes) of an uploaded .pdf, .docx or .html that `text` was extracted from;
                the corpus keeps it as it came, so the text stays derived.
            meta: published (YYYY-MM-DD), url and byline, winning over what the file itself says; the corpus keeps
                them in the file's `.meta.json` sidecar, so a rebuild finds them.

        Returns:
            The document as indexed (title, blocks, metadata).

        Raises:
            RagError: an invalid id or text; DocumentConflict (409) when the id would take another
                document's file; ReadOnlyStore on a database replica.
        """
        validate_doc_id(doc_id)
        given = tidy_meta(meta or {})
        document = document_from_text(doc_id, text, meta=(file_meta(*original) if original else {}) | given)
        chunks = chunk(document, self.nlp, self.embedder, self.settings)  # 2. chunk
        vectors = self.embedder.encode([c.embedding_text() for c in chunks])  # 3. embed
        self._write(self.index.put, document, chunks, vectors, original, given)  # 4. index
        return document

    def remove_document(self, doc_id: str) -> None:
        """Remove a document and its file, all or nothing.

        Raises:
            NoSuchDocument: no document has this id. LastDocument: it is the only one (an index needs one).
        """
        self._write(self.index.delete, doc_id)

    def sync(self) -> bool:
        """Bring in files added, edited or removed in the corpus folder by anyone; True when anything changed."""
        return self._write(self.index.sync)

    def _write(self, write: Callable, *args):
        """One write at a time in this process, then the swap to what questions read next (questions in flight
        keep theirs); the store orders writes across processes."""
        with self._write_lock:
            outcome = write(*args)
            if self.index.current is not self.snapshot.store:
                self.snapshot = self.snapshot.successor(self.index.current)
            return outcome

    def search(self, query: str, k: int | None = None, retrieval: str | None = None,
               doc_ids: list[str] | None = None) -> list[Hit]:
        """The passages retrieved for a query, best first (no answer).

        Args:
            query: words or a question. k: how many (default settings.k). retrieval: "dense" or "hybrid".
            doc_ids: search only these documents.

        Returns:
            Hits: each a chunk (text, sentences, offsets into its article) and its retrieval score.
        """
        query = str(validate_question(query))  # a plain str: spaCy takes no subclass
        snapshot = self.snapshot
        return snapshot.retriever(retrieval).search(query, validate_k(k or self.settings.k),
                                                    known_documents(doc_ids, snapshot.store))

    def ask(
        self, question: str, k: int | None = None, answerer: str | None = None, retrieval: str | None = None,
        depth: int = 0, doc_ids: list[str] | None = None, context: str = "", since: str | date | None = None,
        until: str | date | None = None, form: str | None = None,
    ) -> Result:
        """Answer a question from the top k passages of one snapshot of the index, with checked citations.

        Args:
            question: plain language, 1-2,000 characters. k: passages read (default settings.k).
            answerer: the reader of short questions (default settings.answerer); open ones go to
                settings.open_answerer unless this names an open-question reader. retrieval: "dense" or "hybrid".
            depth: retrieve this many for scoring retrieval, listed in `result.retrieved`; the answer still
                reads only the top k.
            doc_ids, since, until: search only these documents, or those published in [since, until]
                (YYYY-MM-DD, inclusive; undated ones as settings.undated says), filtered before ranking.
            context: a conversation's previous question, searched with the question, never read as part of it.
            form: "auto" (the question's wording chooses), "span" or "sentences" (default settings.answer_form).

        Returns:
            A Result: `answer` (with [n] markers) or "I don't know…" with a `reason`; `citations` (quote and
            offsets into the article, checked against it); `confidence` "high" or "low"; timings.
        """
        question = str(validate_question(question))  # a plain str: spaCy takes no subclass
        k = validate_k(k or self.settings.k)
        since, until = validate_date(since, "since"), validate_date(until, "until")
        validate_period(since, until)
        script = foreign_script(question)
        if script:
            return cite(question, abstain(f"the question is written in {script} script, and the index and the "
                                          "reader understand English only: ask it in English"), [])
        snapshot = self.snapshot  # taken once: a write during this question cannot mix two index versions
        routed = choose_form(question, form or self.settings.answer_form)
        if routed.form == "sentences" and answerer not in OPEN_ANSWERERS:
            answerer = self.settings.open_answerer  # `answerer` names the reader of short questions
        reader = snapshot.answerer(answerer)
        allowed = known_documents(doc_ids, snapshot.store)
        if since or until:
            allowed = published_between(snapshot.store, since, until, self.settings.undated, allowed)
            if not allowed:
                return cite(question, abstain(f"no indexed article was published {period(since, until)}"), [])
        started = time.perf_counter()
        query = f"{question} {context}" if context else question
        hits = snapshot.retriever(retrieval).search(query, max(k, depth), allowed)  # 5. retrieve
        retrieved = time.perf_counter()
        draft = reader.answer(question, hits[:k])  # 6. answer
        documents = cached_documents(snapshot.store)
        result = cite(question, draft, hits[:k], lambda doc_id: getattr(documents(doc_id), "text", None))  # 7. cite
        if result.abstained and (since or until):
            result.reason = f"{result.reason}; {filtered_out(snapshot, query, k, allowed, since, until, retrieval)}"
        for citation in result.citations + result.passages:  # the article's date, source and byline beside it
            meta = getattr(documents(citation.doc_id), "meta", {})
            citation.published, citation.url, citation.byline = (meta.get(m) for m in ("published", "url", "byline"))
        finished = time.perf_counter()
        result.retrieved = [hit.chunk.doc_id for hit in hits]
        result.timings_ms = {"retrieve": round((retrieved - started) * 1000, 2),
                             "answer": round((finished - retrieved) * 1000, 2),
                             "total": round((finished - started) * 1000, 2)}
        return result


def cached_documents(store: Searchable) -> Callable[[str], Document | None]:
    """Each cited document fetched once per question: `cite` checks quotes against its text, and citations
    carry its date, source and byline."""
    found: dict[str, Document | None] = {}

    def document(doc_id: str) -> Document | None:
        if doc_id not in found:
            found[doc_id] = store.documents.get(doc_id)
        return found[doc_id]

    return document


def published_between(store: Searchable, since: date | None, until: date | None, undated: str,
                      allowed: frozenset[str] | None) -> frozenset[str]:
    """The documents published in [since, until] (among `allowed`); undated ones when `undated` is "include"."""
    chosen = set()
    for doc_id, document in store.documents.items():
        if allowed is not None and doc_id not in allowed:
            continue
        published = document.meta.get("published")
        if published is None:
            if undated == "include":
                chosen.add(doc_id)
        elif (since is None or published >= since.isoformat()) and (until is None or published <= until.isoformat()):
            chosen.add(doc_id)
    return frozenset(chosen)


def filtered_out(snapshot: Snapshot, query: str, k: int, allowed: frozenset[str], since: date | None,
                 until: date | None, retrieval: str | None) -> str:
    """What the date filter left out of an abstention's search: the articles the same search finds without it."""
    unfiltered = snapshot.retriever(retrieval).search(query, k, None)
    excluded = sorted({hit.chunk.doc_id for hit in unfiltered} - allowed)
    if not excluded:
        return f"the date filter ({period(since, until)}) excluded no matching article"
    return (f"the date filter ({period(since, until)}) excluded {len(excluded)} matching article(s): "
            f"{', '.join(excluded[:3])}")


def period(since: date | None, until: date | None) -> str:
    if since and until:
        return f"between {since} and {until}"
    return f"since {since}" if since else f"until {until}"


def known_documents(doc_ids: list[str] | None, store: Searchable) -> frozenset[str] | None:
    """A document filter as a set, every id checked: an unknown id is an error, never an empty search."""
    if doc_ids is None:
        return None
    if not doc_ids:
        raise RagError("doc_ids is empty: leave it out to search every document")
    unknown = [doc_id for doc_id in doc_ids if doc_id not in store.documents]
    if unknown:
        raise NoSuchDocument(f"doc_ids: no document with id {', '.join(map(repr, unknown))}")
    return frozenset(doc_ids)


class Snapshot:
    """One version of the index with the retrievers and answerers built on it, made when first asked for."""

    def __init__(self, store: Searchable, pipeline: Pipeline):
        self.store = store
        self.pipeline = pipeline
        self._retrievers: dict[str, Retriever] = {}
        self._answerers: dict[str, Answerer] = {}

    def retriever(self, mode: str | None = None) -> Retriever:
        settings = self.pipeline.settings
        mode = mode or settings.retrieval
        if mode not in self._retrievers:
            self._retrievers[mode] = make_retriever(mode, self.store, self.pipeline.embedder, settings.rrf_k)
        return self._retrievers[mode]

    def answerer(self, name: str | None = None) -> Answerer:
        name = name or self.pipeline.settings.answerer
        if name not in self._answerers:
            self._answerers[name] = make_answerer(name, self.pipeline.settings, self.store, self.pipeline.nlp,
                                                  self.pipeline.embedder)
        return self._answerers[name]

    def successor(self, store: Searchable) -> Snapshot:
        following = Snapshot(store, self.pipeline)
        for mode in list(self._retrievers):
            following.retriever(mode)
        for name in list(self._answerers):
            following.answerer(name)
        return following


