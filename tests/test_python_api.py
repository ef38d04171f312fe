"""The README's Python API example, run as written (in a copy of the seeds, since it adds a document)."""

import re
import shutil

import pytest

from tests.conftest import ROOT, SEEDS


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Python API"):]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert printed.startswith("62.6 billion KRW [1]")
    assert "002_a41762f22f1f4beb" in printed and printed.splitlines()[-1].startswith("3.2 trillion")
    # added as the HTTP API adds (a file, then the index), then removed: the example leaves the folders as they were
    for folder in (tmp_path / "seeds", tmp_path / "data" / "articles"):
        assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in SEEDS.iterdir())


def test_importing_rag_loads_no_model():
    import subprocess
    import sys

    code = "import sys, rag; rag.Settings; print(sorted(m for m in ('torch', 'spacy', 'faiss', 'onnxruntime') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_a_question_is_checked_once_per_request(pipeline, monkeypatch):
    """The HTTP schema checks it (its error names the field); the pipeline takes it as checked."""
    from fastapi.testclient import TestClient

    from rag import inputs
    from rag.api.app import create_app

    assert inputs.validate_question(inputs.validate_question(" Who? ")) == "Who?"
    checks = []
    real = inputs._checked
    monkeypatch.setattr(inputs, "_checked", lambda question: checks.append(question) or real(question))
    with TestClient(create_app(pipeline.settings, pipeline)) as client:
        assert client.post("/ask", json={"question": "Who is the mayor of Gwangju?"}).status_code == 200
        assert checks == ["Who is the mayor of Gwangju?"]
        assert client.post("/ask", json={"question": "\x07"}).status_code == 422  # still checked
    pipeline.ask("Who is the mayor of Gwangju?")  # the Python API checks what it is given
    assert len(checks) == 3
