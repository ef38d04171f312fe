"""`rag train-reader`: fine-tune an encoder with a start/end span head, export it to int8 ONNX, score it on dev.

transformers' Trainer runs the loop (seeded, checkpoints every `save_steps`, `--resume` after a kill);
the exported model is scored with the same code that answers questions (rag.answer.spans), so the
dev numbers are the shipped model's numbers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from transformers import TrainerCallback

from rag.answer.spans import write_config
from rag.errors import RagError
from rag.tools.evaluation.qa_lines import Loaded, read_examples
from rag.tools.train.data import NegativeSource, with_negatives, within_length
from rag.tools.train.perturb import with_perturbed


@dataclass
class Recipe:
    base: str = "all-MiniLM-L6-v2"
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 16
    learning_rate: float = 1e-4
    seed: int = 13
    threads: int = 2
    max_tokens: int = 256  # training window; questions are answered with windows of up to 384
    stride: int = 96
    keep_empty: float = 0.1  # share of answer-less windows of answerable examples kept
    negatives: float = 0.3  # share of answerable questions also paired with a paragraph that lacks the answer
    negatives_from: NegativeSource = "article"  # where that paragraph comes from: "article" or "bm25" (see with_negatives)
    perturbed: float = 0.0  # share of answerable questions also asked, changed, of their own paragraph (see perturb)
    max_answer_words: int = 12
    max_answer_tokens: int = 16  # decoding: the longest span the reader returns
    save_steps: int = 300
    limit: int = 0  # read only the first N training examples (0: all); for smoke tests
    bf16: bool = False  # bfloat16 autocast: about 1.2x faster steps on a CPU with AVX512-BF16; weights stay fp32


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def train_reader(data: list[Path], dev: Path | None, out: Path, recipe: Recipe, spacy_model: str, resume: bool = False,
                 dev_limit: int = 0) -> dict:
    import torch
    from transformers import (AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments, set_seed)
    from transformers.trainer_utils import get_last_checkpoint

    from rag.tools.train.features import windows

    started = time.time()
    torch.set_num_threads(recipe.threads)  # the machine's cores, not more: oversubscription slows every step
    set_seed(recipe.seed)
    checkpoints = out / "checkpoints"
    if resume and not (checkpoints.is_dir() and get_last_checkpoint(str(checkpoints))):
        raise RagError(f"nothing to resume: no checkpoint in {checkpoints}")

    loaded = read_all(data, recipe.limit or None)
    examples = with_perturbed(loaded.examples, recipe.perturbed, recipe.seed, spacy_model)
    if recipe.perturbed:
        log(f"{len(examples) - len(loaded.examples)} unanswerable copies of questions with one thing changed")
    examples = with_negatives(within_length(examples, recipe.max_answer_words), recipe.negatives, recipe.seed,
                              recipe.negatives_from)
    base = base_folder(recipe.base, loaded.examples, out)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    features = windows(examples, tokenizer, recipe.max_tokens, recipe.stride, recipe.keep_empty, recipe.seed)
    log(f"{len(examples)} examples ({sum(not e.answerable for e in examples)} unanswerable) → {len(features)} windows")

    model = AutoModelForQuestionAnswering.from_pretrained(str(base), dtype=torch.float32)
    gpu = torch.cuda.is_available()  # same recipe on either; the card names the device
    if recipe.bf16 and not gpu and not torch.cpu._is_avx512_bf16_supported():
        log("warning: this CPU has no bfloat16 instructions (AVX512-BF16), so --bf16 will make steps slower")
    arguments = TrainingArguments(
        output_dir=str(checkpoints), per_device_train_batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate, num_train_epochs=recipe.epochs, max_steps=recipe.max_steps,
        warmup_steps=0.1, weight_decay=0.01, lr_scheduler_type="linear",
        save_strategy="steps", save_steps=recipe.save_steps, save_total_limit=2,
        logging_steps=25, report_to="none", seed=recipe.seed, data_seed=recipe.seed, use_cpu=not gpu,
        dataloader_pin_memory=False, train_sampling_strategy="group_by_length", bf16=recipe.bf16,
    )
    trainer = Trainer(model=model, args=arguments, train_dataset=features,
                      data_collator=DataCollatorWithPadding(tokenizer), callbacks=[Throughput(recipe.batch_size)])
    checkpoint = get_last_checkpoint(str(checkpoints)) if resume else None
    if checkpoint:
        log(f"resuming from {checkpoint}")
    with contextlib.redirect_stdout(sys.stderr):  # the progress bar's loss lines; stdout carries the result
        outcome = trainer.train(resume_from_checkpoint=checkpoint)
    train_seconds = time.time() - started

    model = trainer.accelerator.unwrap_model(model, keep_fp32_wrapper=False)  # --bf16 wraps forward in autocast
    export(model.cpu().eval(), tokenizer, out, recipe)
    metrics = {}
    if dev is not None:
        metrics = score_and_calibrate(out, dev, dev_limit, recipe.threads)
    card = {
        "recipe": asdict(recipe), "data": ", ".join(map(str, data)), "dev": str(dev) if dev else None,
        "examples": len(examples), "windows": len(features), "skipped_lines": len(loaded.skipped),
        "steps": outcome.global_step, "epochs": round(trainer.state.epoch or 0, 3),
        "train_loss": round(outcome.training_loss, 4), "train_minutes": round(train_seconds / 60, 1),
        "machine": torch.cuda.get_device_name() if gpu else f"{os.cpu_count()} cores, {platform.machine()}",
        "threads": recipe.threads,
        "command": " ".join(["rag", *sys.argv[1:]]) if sys.argv[0].endswith("rag") else " ".join(sys.argv),
        "dev_metrics": metrics, "log": trainer.state.log_history[-40:],
    }
    (out / "training.json").write_text(json.dumps(card, indent=2))
    write_card(out, card)
    return card


def read_all(paths: list[Path], limit: int | None) -> Loaded:
    """Every data file's examples in turn (the first `limit` of each), reporting malformed lines per file."""
    examples, skipped = [], []
    for path in paths:
        loaded = read_examples(path, limit)
        for reason in loaded.skipped[:10]:
            log(f"skipped {path}: {reason}")
        if loaded.skipped:
            log(f"skipped {len(loaded.skipped)} malformed line(s) of {path}; training on the other {len(loaded.examples)}")
        examples += loaded.examples
        skipped += [f"{path} {reason}" for reason in loaded.skipped]
    return Loaded(examples, skipped)


def base_folder(name: str, examples: list, out: Path) -> Path:
    """The encoder's transformers folder: a packaged model, a local folder, or one written under OUT (kept
    there, so that --resume continues from the same weights and vocabulary): the e5 base, or a trained
    reader's weights."""
    from rag.tools.train import e5, reader_base

    if reader_base.is_reader(name):
        folder = out / "base"
        if not (folder / "config.json").is_file():
            log(f"writing the weights of the reader in {name} to {folder}")
            reader_base.write_base(Path(name), folder)
        return folder
    if name != e5.NAME:
        from rag.embed import resolve_model_path

        try:
            return resolve_model_path(name)
        except RagError as exc:
            raise RagError(f"{exc}; a reader can also start from {e5.NAME}") from None
    folder = out / "base"
    if not (folder / "config.json").is_file():
        log(f"writing the {name} base to {folder}")
        e5.write_base(folder, dict.fromkeys(text for e in examples for text in (e.context, e.question)))
    return folder


class Throughput(TrainerCallback):
    """Adds examples per second to the loss lines the progress bar prints."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.last = (time.time(), 0)

    def on_log(self, args, state, control, logs=None, **kwargs):
        now = time.time()
        seconds, steps = now - self.last[0], state.global_step - self.last[1]
        if logs is not None and steps > 0 and seconds > 0:
            logs["examples_per_s"] = round(steps * self.batch_size / seconds, 1)
        self.last = (now, state.global_step)


def export(model, tokenizer, out: Path, recipe: Recipe) -> None:
    """int8 dynamic quantisation of the ONNX graph: about 4x smaller and 2x faster on CPU, same answers."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from rag.embed.onnx_export import EXPORTED_ATTENTION, export_module
    from rag.tools.train import reader_base

    class Logits(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            output = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return output.start_logits, output.end_logits

    model.set_attn_implementation(EXPORTED_ATTENTION)
    out.mkdir(parents=True, exist_ok=True)
    full = out / "model-fp32.onnx"
    export_module(Logits(model), full, ["start_logits", "end_logits"])
    logging.disable(logging.WARNING)  # the quantiser's advice to pre-process, printed on every call
    try:
        quantize_dynamic(str(full), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)
    full.unlink()
    for extra in out.glob("model-fp32.onnx*"):
        extra.unlink()
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    config = {"max_tokens": 384, "stride": 128, "max_answer_tokens": recipe.max_answer_tokens,
              "null_threshold": 0.0, "vocab_size": tokenizer.backend_tokenizer.get_vocab_size(),
              "base": reader_base.encoder_of(Path(recipe.base)) if reader_base.is_reader(recipe.base) else recipe.base}
    write_config(out, config)
    log(f"exported the reader to {out / 'model.onnx'} ({(out / 'model.onnx').stat().st_size / 1e6:.1f} MB, int8)")


def score_and_calibrate(folder: Path, dev: Path, limit: int = 0, threads: int = 0) -> dict:
    """SQuAD 2.0 scores on dev given the gold paragraph, with the no-answer margin that maximises F1
    written into reader.json (the official evaluation's best_f1_thresh)."""
    from tqdm import tqdm

    from rag.answer.spans import SpanModel

    examples = read_examples(dev, limit or None).examples
    model = SpanModel(folder, threads=threads or os.cpu_count() or 1)
    rows = []
    started = time.perf_counter()
    for example in tqdm(examples, desc="Scoring on dev", unit="q"):
        span = model.best(example.question, [example.context])
        text = example.context[span.start : span.end] if span else ""
        rows.append((text, span.margin if span else float("-inf"), example.answers))
    per_question_ms = (time.perf_counter() - started) * 1000 / len(rows)
    threshold = best_threshold(rows)
    write_config(folder, json.loads((folder / "reader.json").read_text()) | {"null_threshold": round(threshold, 4)})
    return squad2_summary(rows, threshold) | {"null_threshold": round(threshold, 4), "examples": len(rows),
                                              "ms_per_question": round(per_question_ms, 1)}


def squad2_summary(rows: list[tuple[str, float, list[str]]], threshold: float) -> dict:
    from rag.tools.evaluation.metrics import squad2_scores

    scored = {"all": [], "has_ans": [], "no_ans": []}
    for text, margin, answers in rows:
        em, f1 = squad2_scores(text if margin > threshold else "", answers)
        scored["all"].append((em, f1))
        scored["has_ans" if answers else "no_ans"].append((em, f1))
    summary = {}
    for name, values in scored.items():
        if values:
            summary[f"{name}_em"] = round(sum(v[0] for v in values) / len(values), 4)
            summary[f"{name}_f1"] = round(sum(v[1] for v in values) / len(values), 4)
            summary[f"{name}_count"] = len(values)
    return summary


def best_threshold(rows: list[tuple[str, float, list[str]]], min_no_answer: float = 0.0) -> float:
    """The margin above which answering beats abstaining most often, by total F1, among the margins that
    still abstain on at least `min_no_answer` of the unanswerable questions."""
    from rag.tools.evaluation.metrics import token_f1

    # Start from "abstain on everything", then lower the bar one prediction at a time.
    unanswerable = sum(1 for _, _, answers in rows if not answers)
    total, answered_wrongly = float(unanswerable), 0
    best, best_total = float("inf"), total
    for text, margin, answers in sorted(rows, key=lambda r: -r[1]):
        if margin == float("-inf"):
            break
        total += token_f1(text, answers) if answers else -1.0
        answered_wrongly += not answers
        if unanswerable and 1 - answered_wrongly / unanswerable < min_no_answer:
            break  # every lower bar answers even more unanswerable questions
        if total > best_total:
            best, best_total = margin, total
    return best - 1e-6 if best != float("inf") else 1e9


def write_card(out: Path, card: dict) -> None:
    from rag.tools.train.card import render

    (out / "MODEL_CARD.md").write_text(render(card))
