"""The trained span model at question time: tokenizers + ONNX Runtime + numpy, never torch.

A model folder holds `model.onnx` (start/end logits), `tokenizer.json` and `reader.json` (window size,
stride, longest answer, the no-answer margin calibrated on dev data, the decision, and the sha256 of the other two
files and of its own settings). Every file is checked when the folder is opened; a folder without checksums is
refused unless RAG_READER_UNVERIFIED says it is a local model to load as it is.
Every file is checked when the folder is opened, and a problem names the file and the command that
rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.atomic import file_digest
from rag.errors import ModelFileError

FILES = ("model.onnx", "tokenizer.json", "reader.json")
REBUILD = "rag train-reader --data TRAIN.jsonl --dev DEV.jsonl --out {folder} (see its MODEL_CARD.md)"
TOP = 20  # start and end candidates considered per window
QUESTION_TOKENS = 64  # the longest question the reader reads; a window must keep room for the passage


@dataclass
class Span:
    passage: int  # index into the passages asked about
    start: int  # character offsets into that passage
    end: int
    score: float  # start + end logit
    margin: float  # score minus its own window's no-answer score: > threshold means "answer"


@lru_cache(maxsize=4)
def load_span_model(folder: Path, threads: int = 1, unverified: bool = False) -> SpanModel:
    """One session per model folder: every index snapshot's reader shares it (it never depends on the index)."""
    return SpanModel(folder, threads, unverified)


class SpanModel:
    def __init__(self, folder: Path, threads: int = 1, unverified: bool = False):
        import onnxruntime
        from tokenizers import Tokenizer

        folder = self.folder = Path(folder)
        rebuild = REBUILD.format(folder=folder)
        for name in FILES:
            if not (folder / name).is_file():
                raise ModelFileError(f"reader model file {folder / name} is missing; rebuild it with: {rebuild}")
        try:
            self.config = json.loads((folder / "reader.json").read_text())
            self.max_tokens = int(self.config["max_tokens"])
            self.stride = int(self.config["stride"])
            self.max_answer_tokens = int(self.config["max_answer_tokens"])
            self.threshold = float(self.config["null_threshold"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFileError(f"reader model file {folder / 'reader.json'} is unreadable ({exc}); "
                                 f"rebuild it with: {rebuild}") from None
        digests = self.config.get("sha256")
        if not isinstance(digests, dict) or set(digests) != set(FILES):
            if not unverified:
                raise ModelFileError(f"reader folder {folder} records no checksum of its files (model.onnx, "
                                     "tokenizer.json and reader.json's own settings), so a changed or foreign file "
                                     "cannot be told apart: rebuild it with rag train-reader, or set "
                                     "RAG_READER_UNVERIFIED=true to load a local folder as it is")
            digests = {}
        for name, digest in digests.items():
            actual = config_digest(self.config) if name == "reader.json" else file_digest(folder / name)
            if actual != digest:
                raise ModelFileError(f"reader model file {folder / name} is damaged or was changed (its sha256 "
                                     f"is not the one reader.json records); rebuild it with: {rebuild}")
        try:
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises plain Exception on a bad file
            raise ModelFileError(f"reader model file {folder / 'tokenizer.json'} is unreadable ({exc}); "
                                 f"rebuild it with: {rebuild}") from None
        self.tokenizer.no_padding()
        self.question_tokenizer = Tokenizer.from_str(self.tokenizer.to_str())  # measures questions, uncut
        self.question_tokenizer.no_truncation()
        self.tokenizer.enable_truncation(self.max_tokens, stride=self.stride, strategy="only_second")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # ONNX Runtime's idle threads spin by default, and on 2 cores a spinning pool steals the core another
        # model call needs: with spinning, 2 threads made warm /ask slower (85 ms against 76 with 1); without
        # it, 54 ms, and 4 clients get 22 requests/s instead of 17 (rag bench --only service).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False  # every question has its own shapes: an arena only grows
        try:
            self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for truncated or foreign files
            raise ModelFileError(f"reader model file {folder / 'model.onnx'} cannot be loaded "
                                 f"({type(exc).__name__}); rebuild it with: {rebuild}") from None
        vocabulary = self.tokenizer.get_vocab_size()
        if self.config.get("vocab_size") not in (None, vocabulary):
            raise ModelFileError(f"reader model file {folder / 'tokenizer.json'} has {vocabulary} tokens but the model "
                                 f"expects {self.config['vocab_size']}; rebuild it with: {rebuild}")
        self.inputs = [i.name for i in self.session.get_inputs()]

    def best(self, question: str, passages: list[str]) -> Span | None:
        """The span that beats its window's "no answer" by the most, across all passages; None when there is
        nothing to read."""
        found = self.candidates(question, passages, 1)
        return found[0] if found else None

    def candidates(self, question: str, passages: list[str], n: int, offset: int = 0) -> list[Span]:
        """The n spans that beat their window's "no answer" by the most, best first, one per (passage, start,
        end): later stages may prefer a slightly lower span whose kind fits the question. Passages are numbered
        from `offset`, so that passages read in a second call follow those of the first.

        A question's windows run as one batch. int8 dynamic quantisation gives a batch one activation scale, so
        a passage's scores move a little with the other passages in it (start logits by 0.86 at the median).
        One window per run avoids that and is faster (103 against 115 ms), but on the news-dev dev split, with
        the decision recalibrated or not, it abstained less often on unanswerable questions (model card)."""
        windows = []  # (passage, encoding)
        question = self.readable(question)
        for p, passage in enumerate(passages, start=offset):
            if not passage.strip():
                continue
            encoding = self.tokenizer.encode(question, passage)
            windows += [(p, e) for e in [encoding, *encoding.overflowing]]
        if not windows:
            return []
        width = max(len(e.ids) for _, e in windows)
        feeds = {name: np.zeros((len(windows), width), dtype=np.int64) for name in self.inputs}
        for row, (_, e) in enumerate(windows):
            feeds["input_ids"][row, : len(e.ids)] = e.ids
            feeds["attention_mask"][row, : len(e.ids)] = 1
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, : len(e.ids)] = e.type_ids
        start_logits, end_logits = self.session.run(None, feeds)
        spans: dict[tuple[int, int, int], Span] = {}
        for row, (p, e) in enumerate(windows):
            # Logits of different windows are not on one scale; each span is measured against its own window's
            # "no answer". On held-out dev questions this picked better spans than the highest raw score across
            # windows (HasAns F1 0.615 against 0.562 when always answering; see the model card).
            null = float(start_logits[row, 0] + end_logits[row, 0])
            context = np.array([s == 1 for s in e.sequence_ids])
            starts = _top(start_logits[row], context)
            ends = _top(end_logits[row], context)
            scores = start_logits[row, starts][:, None] + end_logits[row, ends][None, :]
            length = ends[None, :] - starts[:, None] + 1
            scores = np.where((length >= 1) & (length <= self.max_answer_tokens), scores, -np.inf)
            for flat in np.argsort(-scores, axis=None)[:n]:  # a window's best n are all it can add to the best n
                s, t = divmod(int(flat), len(ends))
                if not np.isfinite(scores[s, t]):
                    break
                score = float(scores[s, t])
                span = Span(p, e.offsets[starts[s]][0], e.offsets[ends[t]][1], score, score - null)
                key = (p, span.start, span.end)
                if key not in spans or span.margin > spans[key].margin:
                    spans[key] = span
        return sorted(spans.values(), key=lambda span: -span.margin)[:n]


    def readable(self, question: str) -> str:
        """The question's last QUESTION_TOKENS tokens: a long question ends with what it asks (the tokenizer
        refuses a question that leaves less than a stride of the window for the passage, and SQuAD-style
        questions are short anyway)."""
        question = question.strip()
        encoding = self.question_tokenizer.encode(question, add_special_tokens=False)
        if len(encoding.ids) <= QUESTION_TOKENS:
            return question
        return question[encoding.offsets[-QUESTION_TOKENS][0]:]


def config_digest(config: dict) -> str:
    """reader.json's own checksum: its settings (the decision's weights and bars included), without the checksums."""
    settings = {key: value for key, value in config.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def write_config(folder: Path, config: dict) -> None:
    """reader.json with the checksums of every file of the folder, its own settings included: what SpanModel checks."""
    config = dict(config)
    config["sha256"] = {"model.onnx": file_digest(folder / "model.onnx"),
                        "tokenizer.json": file_digest(folder / "tokenizer.json"), "reader.json": config_digest(config)}
    (folder / "reader.json").write_text(json.dumps(config, indent=2))


def _top(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    masked = np.where(allowed, logits[: len(allowed)], -np.inf)
    order = np.argsort(-masked)[:TOP]
    return order[np.isfinite(masked[order])]
