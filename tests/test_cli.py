"""The `rag` command as a user runs it: a real process, real models, the project's seeds."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def rag(*args, tmp_path, env=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environment.update({"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SOURCE_DIR": str(ROOT / "seeds")}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args], cwd=tmp_path, env=environment, capture_output=True, text=True,
        timeout=300,
    )


def test_ask_json_then_human_output(tmp_path, store_env):
    def rag_(*args):
        return rag(*args, tmp_path=tmp_path, env=store_env)

    done = rag_("ask", "How much national budget did Gwangju secure this year?", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answer"].startswith("62.6 billion KRW [1]") and not result["abstained"]
    assert result["citations"][0]["doc_id"] == "002_a41762f22f1f4beb"
    assert set(result["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert "Indexing" in done.stderr  # first use indexes the folder, whichever the store

    if not store_env:
        assert "no index yet in " in done.stderr and "; building it from " in done.stderr

    done = rag_("ask", "Who is the mayor of Hangzhou?")
    assert done.returncode == 0 and done.stdout.startswith("Yao Gaoyuan [1]")
    assert "Sources:" in done.stdout and "Indexing" not in done.stderr

    done = rag_("ask", "What is the capital of France?")
    assert done.returncode == 0 and done.stdout.startswith("I don't know")
    assert done.stdout.splitlines()[1].startswith("why: ")  # the reason, in text mode too

    done = rag_("search", "Hangzhou mayor", "--k", "2", "--json")
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 2

    done = rag_("search", "budget", "--k", "10", "--doc-ids", "001_25a75e6ad182f60e", "--json")
    assert done.returncode == 0 and {p["doc_id"] for p in json.loads(done.stdout)} == {"001_25a75e6ad182f60e"}
    done = rag_("ask", "How much budget?", "--doc-ids", "nope")
    assert done.returncode == 2 and "no document with id 'nope'" in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "   "], "the question is empty"),
        (["ask", "hi", "--answerer", "oracle"], "unknown answerer"),
        (["ask", "hi", "--k", "0"], "k"),
        (["ask", "hi", "--source", "/no/such/folder"], "corpus folder not found"),
        (["ask"], "error: Missing argument 'question'. (see: "),
        (["ask", "hi", "--k", "many"], "error: Invalid value for '--k'"),
        (["eval", "--no-such-flag"], "error: No such option: --no-such-flag"),
        (["serve", "--port", "99999"], "error: Invalid value for '--port'"),
    ],
)
def test_user_mistakes_are_one_line_and_non_zero(tmp_path, args, message):
    done = rag(*args, tmp_path=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line_before_any_model_loads(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        done = rag("serve", "--port", str(taken.getsockname()[1]), tmp_path=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: cannot listen on 127.0.0.1:")
    assert "Indexing" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_version_and_short_help(tmp_path):
    done = rag("--version", tmp_path=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("rag-news ")
    done = rag("-h", tmp_path=tmp_path, env={"COLUMNS": "80"})
    commands = done.stdout[done.stdout.index("Commands:"):]
    assert done.returncode == 0 and "calibrate-reader" in commands and "..." not in commands
    for command in ("ask", "search", "index", "eval", "serve", "calibrate-reader", "train-reader", "bench", "stress"):
        assert "Example: rag " in rag(command, "-h", tmp_path=tmp_path).stdout, command


def test_index_command_reports_up_to_date(tmp_path, store_env):
    assert rag("index", tmp_path=tmp_path, env=store_env).returncode == 0
    done = rag("index", tmp_path=tmp_path, env=store_env)
    assert done.returncode == 0 and "up to date" in done.stdout


def test_help_names_the_environment_variables_and_no_types_for_plain_flags(tmp_path):
    done = rag("ask", "--help", tmp_path=tmp_path, env={"COLUMNS": "80"})
    assert done.returncode == 0 and "[env RAG_K; default 5]" in done.stdout and "[env RAG_ANSWERER]" in done.stdout
    assert "<bool>" not in done.stdout and " ." not in done.stdout  # no type beside --json, no gap where a hint was


def test_asking_imports_no_training_benchmark_or_evaluation_code(tmp_path):
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print(sorted(m for m in sys.modules if m.startswith('rag.tools'))))\n"
            "from rag.cli import main\n"
            "sys.argv = ['rag', 'ask', 'Who is the mayor of Hangzhou?']\n"
            "main()\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    environment |= {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SOURCE_DIR": str(ROOT / "seeds")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Yao Gaoyuan") and done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name, value, says", [
    ("RAG_EMBED_MODEL", "{tmp}", "holds no model (no config.json)"),
    ("RAG_CACHE_DIR", "/dev/null/x", "(RAG_CACHE_DIR): Not a directory"),
    ("RAG_INDEX_DIR", "/proc/self", "cannot use /proc/self as the index folder (RAG_INDEX_DIR)"),
    ("RAG_INDEX_DIR", "{tmp}/a-file", "(RAG_INDEX_DIR): it is a file, not a folder"),
])
def test_a_settings_path_that_exists_but_is_wrong_is_one_error_line(tmp_path, name, value, says):
    (tmp_path / "a-file").write_text("not a folder\n")
    done = rag("ask", "Who is the mayor of Hangzhou?", tmp_path=tmp_path, env={name: value.format(tmp=tmp_path)})
    assert done.returncode == 2 and done.stderr.startswith("error: ") and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_ctrl_c_during_indexing_stops_promptly_and_leaves_the_index_unchanged(pipeline, tmp_path):
    import shutil
    import signal

    from rag.index.faiss.persist import load
    from tests.conftest import private_copy

    corpus, index = private_copy(pipeline, tmp_path)
    before = (index / "CURRENT").read_bytes()
    for n in range(40):  # enough new articles that indexing them takes many seconds
        for article in sorted(corpus.glob("0*.txt")):
            shutil.copy(article, corpus / f"copy{n}-{article.name}")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    # SIGINT as a terminal sends it, even when the suite runs in the background (where it is inherited ignored)
    run = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "--source", str(corpus), "--index", str(index)],
                           env=environment, stderr=subprocess.PIPE,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = b""
    while b"Indexing:" not in seen and run.poll() is None:
        seen += run.stderr.read1(4096)
    assert b"Indexing:" in seen, seen.decode()
    run.send_signal(signal.SIGINT)
    seen += run.stderr.read()
    assert run.wait(timeout=60) == 130
    assert seen.decode().strip().splitlines()[-1].endswith("error: interrupted; the index is unchanged")
    assert (index / "CURRENT").read_bytes() == before and len(load(index).documents) == 5


@pytest.mark.slow  # kept out of `make check`: seconds each (a subprocess or many writes)
def test_answering_needs_no_torch(tmp_path):
    """`make ask` installs no torch: indexing (the embedding model's ONNX file written from its weights) and
    answering run with torch, transformers and sentence-transformers unimportable."""
    blocked = "import sys; [sys.modules.__setitem__(m, None) for m in ('torch', 'transformers', 'sentence_transformers')]"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")} | {
        "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_CACHE_DIR": str(tmp_path / "cache"),
        "RAG_SOURCE_DIR": str(ROOT / "seeds")}
    done = subprocess.run([sys.executable, "-c", f"{blocked}; from rag.cli import main; main()", "ask",
                           "How much national budget did Gwangju secure this year?"],
                          env=environment, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("62.6 billion KRW [1]") and list((tmp_path / "cache").rglob("model.onnx"))


def test_the_listening_socket_sends_small_responses_at_once():
    """Without TCP_NODELAY on accepted connections, every request after the first on a kept-alive connection
    waited 40 ms for a delayed ACK: asyncio sets it only on sockets created as IPPROTO_TCP."""
    import asyncio
    import socket

    from rag.cli import listening_socket

    async def nodelay_of_an_accepted_connection() -> int:
        accepted = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                accepted.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP,
                                                                                  socket.TCP_NODELAY))

        server = await asyncio.get_running_loop().create_server(Probe, sock=listening_socket("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(nodelay_of_an_accepted_connection()) != 0


def test_a_bad_setting_names_its_variable_or_file(tmp_path):
    bad_env = rag("ask", "Who?", tmp_path=tmp_path, env={"RAG_K": "abc"})
    assert bad_env.returncode == 2 and "RAG_K='abc'" in bad_env.stderr and bad_env.stderr.startswith("error:")
    (tmp_path / "rag.toml").write_text("kk = 3\n")
    bad_file = rag("ask", "Who?", tmp_path=tmp_path)
    assert bad_file.returncode == 2 and "kk (rag.toml in" in bad_file.stderr


def test_since_after_until_is_an_error_before_anything_loads(tmp_path):
    done = rag("ask", "Who?", "--since", "2025-06-01", "--until", "2024-01-01", tmp_path=tmp_path)
    assert done.returncode == 2 and "later than until" in done.stderr


def test_article_text_reaches_the_terminal_without_control_characters(capsys):
    from rag.cli import echo

    echo("Title \x1b]0;pwned\x07\x1b[31mred\u200b\n  next")
    assert capsys.readouterr().out == "Title ]0;pwned[31mred\n  next\n"
