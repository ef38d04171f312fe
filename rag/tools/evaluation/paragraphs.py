"""Score the product on a public SQuAD-format file: its paragraphs become a corpus, one file each,
indexed with the current settings; its questions become an eval set whose gold document is the
paragraph the question was asked about."""

from __future__ import annotations

import hashlib

import random
from pathlib import Path

from rag.tools.evaluation.dataset import Example
from rag.tools.evaluation.qa_lines import read_examples


def squad_eval_set(path: Path, cache_dir: Path, limit: int = 0, seed: int = 13) -> tuple[Path, Path, list[Example]]:
    """(corpus folder, index folder, questions). The corpus is written once per file content into the
    cache, so later runs reuse the folder and its index."""
    loaded = read_examples(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    home = cache_dir / "squad" / f"{path.stem}-{digest}"
    corpus = home / "corpus"
    ids: dict[str, str] = {}
    for example in loaded.examples:
        ids.setdefault(example.context, f"p{len(ids):05d}")
    if not (home / "complete").exists():
        corpus.mkdir(parents=True, exist_ok=True)
        titles = {e.context: e.title.replace("_", " ") for e in loaded.examples}
        for context, doc_id in ids.items():
            title = titles[context] or f"Paragraph {doc_id}"
            (corpus / f"{doc_id}.txt").write_text(f"{title}\n\n{context.strip()}\n", encoding="utf-8")
        (home / "complete").write_text(str(len(ids)))
    examples = [
        Example(e.id, e.question, e.answers, [ids[e.context]] if e.answerable else [], e.answerable)
        for e in loaded.examples
    ]
    if limit and limit < len(examples):
        examples = random.Random(seed).sample(examples, limit)
    return corpus, home / "index", examples



