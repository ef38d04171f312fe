"""Seq2seq generation speed on the real flan-t5-small architecture: transformers fp32 against the
CTranslate2 int8 copy converted from it, 512 input tokens, 32 output tokens, greedy.

No pretrained weights can be installed here, so the model is the real config with random weights:
speed does not depend on weight values. The weights are drawn wide enough that greedy decoding emits
varied tokens, so comparing the two runtimes' outputs means something.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from rag.answer.generators import CTranslate2Generator, TransformersGenerator
from rag.tools.bench.timing import timed_ms

INPUT_TOKENS = 512
OUTPUT_TOKENS = 32
WEIGHT_STD = 0.05


def random_model(skeleton: Path, folder: Path, seed: int = 0) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(skeleton))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, WEIGHT_STD)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(skeleton).save_pretrained(folder)
    return folder


def fixed_prompts(tokenizer, passages: list[str], count: int) -> list[str]:
    """`count` prompts of exactly INPUT_TOKENS tokens (with the end-of-sequence token), cut from the seeds."""
    words = " ".join(passages).split()
    prompts = []
    for n in range(count):
        text = f"Question {n}: what happened? Context: " + " ".join(words[n * 37 :] + words[: n * 37])
        ids = tokenizer(text, add_special_tokens=False, truncation=True, max_length=INPUT_TOKENS - 1).input_ids
        prompts.append(tokenizer.decode(ids))
    return prompts


def measure_seq2seq(skeleton: Path, passages: list[str], cache_dir: Path, repeat: int, prompts: int, log) -> dict:
    with tempfile.TemporaryDirectory(prefix="rag-bench-t5-") as workdir:
        log("seq2seq: building flan-t5-small with random weights")
        model = str(random_model(skeleton, Path(workdir) / "flan-t5-small-random"))
        slow = TransformersGenerator(model)
        log("seq2seq: converting it to CTranslate2 int8")
        fast = CTranslate2Generator(model, Path(workdir) / "cache")
        texts = fixed_prompts(slow.tokenizer, passages, prompts)
        lengths = sorted({len(slow.tokenizer(t).input_ids) for t in texts})
        results = {"model": "flan-t5-small architecture (config and tokenizer from the skeleton), random weights",
                   "input_tokens": lengths, "output_tokens": OUTPUT_TOKENS}
        for name, generator in (("transformers_fp32", slow), ("ctranslate2_int8", fast)):
            log(f"seq2seq: timing {name}")
            results[name] = {"ms": timed_ms(lambda: generator.generate_ids(texts[0], OUTPUT_TOKENS, OUTPUT_TOKENS),
                                            repeat)}
        results["speedup_p50"] = round(results["transformers_fp32"]["ms"]["p50"] / results["ctranslate2_int8"]["ms"]["p50"], 2)
        log(f"seq2seq: comparing greedy outputs on {prompts} prompts")
        reference = [slow.generate_ids(text, OUTPUT_TOKENS, OUTPUT_TOKENS) for text in texts]
        results["outputs"] = compare_outputs(reference, fast, texts)
        # The same conversion without quantisation: tells int8 rounding apart from a decoding difference.
        control = CTranslate2Generator(model, Path(workdir) / "cache", quantization="float32")
        results["outputs_ctranslate2_float32"] = compare_outputs(reference, control, texts)
        results["outputs"]["distinct_tokens"] = len({token for ids in reference for token in ids})
    return results


def compare_outputs(reference: list[list[int]], generator, texts: list[str]) -> dict:
    same, differences = 0, []
    for n, (expected, text) in enumerate(zip(reference, texts)):
        got = generator.generate_ids(text, OUTPUT_TOKENS, OUTPUT_TOKENS)
        if got == expected:
            same += 1
            continue
        first = next((i for i, (x, y) in enumerate(zip(expected, got)) if x != y), min(len(expected), len(got)))
        differences.append({"prompt": n, "first_different_token": first,
                            "tokens_equal": sum(x == y for x, y in zip(expected, got)), "of": len(expected)})
    return {"prompts": len(texts), "identical": same, "differences": differences}
