"""Examples → model windows with start/end labels, SQuAD 2.0 style: the first token ([CLS]) is "no answer"."""

from __future__ import annotations

import random

from rag.tools.evaluation.qa_lines import Example


def windows(examples: list[Example], tokenizer, max_tokens: int, stride: int, keep_empty: float, seed: int) -> list[dict]:
    """Tokenise question + context into overlapping windows. A window of an answerable example that
    does not hold the answer is labelled [CLS]; only `keep_empty` of those are kept, as they would
    otherwise outnumber the windows that teach where answers are."""
    rng = random.Random(seed)
    encoded = tokenizer(
        [e.question.strip() for e in examples], [e.context for e in examples],
        truncation="only_second", max_length=max_tokens, stride=stride,
        return_overflowing_tokens=True, return_offsets_mapping=True,
    )
    types = encoded.get("token_type_ids")  # absent for tokenizers that do not mark the pair (RoBERTa's)
    features = []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        example = examples[encoded["overflow_to_sample_mapping"][i]]
        sequence = encoded.sequence_ids(i)
        start = end = 0
        if example.answerable:
            first, last = example.starts[0], example.starts[0] + len(example.answers[0])
            context = [t for t, s in enumerate(sequence) if s == 1]
            if offsets[context[0]][0] <= first and offsets[context[-1]][1] >= last:
                start = next(t for t in context if offsets[t][1] > first)
                end = next(t for t in reversed(context) if offsets[t][0] < last)
            elif rng.random() >= keep_empty:
                continue
        features.append({
            "input_ids": encoded["input_ids"][i],
            "token_type_ids": types[i] if types else [0] * len(encoded["input_ids"][i]),
            "attention_mask": encoded["attention_mask"][i],
            "start_positions": start,
            "end_positions": end,
        })
    return features
