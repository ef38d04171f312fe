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
    assert (tmp_path / "seeds" / "busan-port.txt").is_file()  # added as the HTTP API adds: a file, then the index


def test_importing_rag_loads_no_model():
    import subprocess
    import sys

    code = "import sys, rag; rag.Settings; print(sorted(m for m in ('torch', 'spacy', 'faiss', 'onnxruntime') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr
