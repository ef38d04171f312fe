"""Greedy text generation for the seq2seq reader, on one of two runtimes (the `seq2seq_runtime` setting):

- `transformers`: the model as saved, fp32 on torch.
- `ctranslate2`: the same model converted locally, once, to CTranslate2 with int8 weights: several times
  faster on a CPU. `rag bench` measures both and compares their outputs.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from rag.atomic import replacing
from rag.errors import ModelUnavailable
from rag.registry import TORCH, Registry

RUNTIMES = Registry("seq2seq runtime")


def from_local(loader, model: str):
    """`loader.from_pretrained(model)` from local files only, or one clear ModelUnavailable."""
    try:
        return loader.from_pretrained(model, local_files_only=True)
    except (OSError, ValueError) as exc:
        where = "folder" if Path(model).is_dir() else "hub id"
        raise ModelUnavailable(
            f"seq2seq weights for {where} {model!r} are not available locally ({type(exc).__name__})"
        ) from None


class Generator:
    """Both runtimes: token ids from `generate_ids`, decoded to text here."""

    tokenizer = None

    def generate(self, prompt: str, max_new_tokens: int, min_new_tokens: int = 0) -> str:
        return self.tokenizer.decode(self.generate_ids(prompt, max_new_tokens, min_new_tokens),
                                     skip_special_tokens=True).strip()

    def generate_ids(self, prompt: str, max_new_tokens: int, min_new_tokens: int = 0) -> list[int]:
        raise NotImplementedError


class TransformersGenerator(Generator):
    def __init__(self, model: str):
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.tokenizer = from_local(AutoTokenizer, model)
        self.model = from_local(AutoModelForSeq2SeqLM, model).eval()

    def generate_ids(self, prompt: str, max_new_tokens: int, min_new_tokens: int = 0) -> list[int]:
        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt")
        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                                         do_sample=False, num_beams=1)
        ids = output[0].tolist()[1:]  # drop the decoder start token
        return ids[:-1] if ids and ids[-1] == self.tokenizer.eos_token_id else ids


class CTranslate2Generator(Generator):
    def __init__(self, model: str, cache_dir: Path, quantization: str = "int8"):
        import ctranslate2
        from transformers import AutoTokenizer

        self.tokenizer = from_local(AutoTokenizer, model)
        converted = converted_model(Path(model), cache_dir, quantization)
        self.translator = ctranslate2.Translator(str(converted), device="cpu", compute_type=quantization,
                                                 inter_threads=1)

    def generate_ids(self, prompt: str, max_new_tokens: int, min_new_tokens: int = 0) -> list[int]:
        source = self.tokenizer.convert_ids_to_tokens(self.tokenizer(prompt).input_ids)
        result = self.translator.translate_batch([source], beam_size=1, max_decoding_length=max_new_tokens,
                                                 min_decoding_length=min_new_tokens)
        return self.tokenizer.convert_tokens_to_ids(result[0].hypotheses[0])


def converted_model(model: Path, cache_dir: Path, quantization: str = "int8") -> Path:
    """The CTranslate2 copy of a local transformers model (int8 weights by default), converted on first use."""
    if not model.is_dir():
        raise ModelUnavailable(f"the ctranslate2 runtime converts a local model folder; {str(model)!r} is not one")
    digest = hashlib.sha256()
    for name in sorted(p.name for p in model.iterdir() if p.is_file()):
        digest.update(name.encode() + str((model / name).stat().st_size).encode())
    target = cache_dir / "ctranslate2" / f"{model.name}-{digest.hexdigest()[:16]}-{quantization}"
    if not (target / "model.bin").exists():
        import ctranslate2

        with replacing(target) as staging:
            ctranslate2.converters.TransformersConverter(str(model)).convert(str(staging), quantization=quantization,
                                                                              force=True)
    return target


RUNTIMES.register("transformers", needs=TORCH)(lambda model, cache_dir: TransformersGenerator(model))
RUNTIMES.register("ctranslate2", needs=("ctranslate2", "transformers"))(
    lambda model, cache_dir: CTranslate2Generator(model, cache_dir))


def make_generator(runtime: str, model: str, cache_dir: Path):
    return RUNTIMES.create(runtime, model, cache_dir)
