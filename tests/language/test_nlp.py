"""spaCy without torch: answering a question must not load torch, and torch stays importable afterwards."""

import subprocess
import sys

from tests.conftest import ROOT, private_copy

ASK = """
import sys
from rag import Settings, open_pipeline
pipeline = open_pipeline(Settings(source_dir=sys.argv[1], index_dir=sys.argv[2]))
result = pipeline.ask("How much national budget did Gwangju secure this year?")
print(result.text)
print("torch loaded:", "torch" in sys.modules)
import torch
print("torch after:", float(torch.ones(2).sum()))
"""


def test_answering_a_question_does_not_import_torch(pipeline, tmp_path):
    corpus, index = private_copy(pipeline, tmp_path)
    done = subprocess.run([sys.executable, "-c", ASK, str(corpus), str(index)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["62.6 billion KRW", "torch loaded: False", "torch after: 2.0"]


def test_spacy_sees_torch_when_it_was_loaded_first():
    code = "import torch, rag.language.nlp, thinc.compat; print(thinc.compat.has_torch)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
