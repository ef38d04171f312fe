"""A trained reader as the base for more training (`rag train-reader --base READER_FOLDER`).

A reader folder ships only its int8 ONNX graph. Its weights, dequantised to float32, are written as a
transformers folder (the encoder and its span head) under OUT/base, so that training goes on from the
reader instead of starting again from the bare encoder: for instance on a user's own questions, or
with a new data mix at a low learning rate. The int8 rounding is small next to what a few hundred
steps change (start logits correlate at 0.996 with the ONNX file's on the shipped reader).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rag.errors import RagError

SUFFIXES = ("_quantized", "_scale", "_zero_point")  # what onnxruntime's quantize_dynamic adds to a weight's name


def is_reader(folder: str | Path) -> bool:
    return (Path(folder) / "model.onnx").is_file() and (Path(folder) / "reader.json").is_file()


def encoder_of(reader: Path) -> str:
    """The encoder a reader was trained from, as `--base` names it (a reader trained from a reader keeps
    the first one's encoder)."""
    return json.loads((reader / "reader.json").read_text()).get("base", "")


def write_base(reader: Path, folder: Path) -> None:
    import numpy as np
    import onnx
    import torch
    from onnx import numpy_helper
    from transformers import AutoConfig, AutoModelForQuestionAnswering

    from rag.embed import resolve_model_path

    name = encoder_of(reader)
    try:
        encoder = resolve_model_path(name)
    except RagError:
        raise RagError(f"{reader} was trained from {name!r}, which is not a packaged encoder or a local folder; "
                       "only readers trained from one can be trained further") from None
    graph = onnx.load(str(reader / "model.onnx")).graph
    weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer}

    def dequantised(name: str) -> np.ndarray:
        values, scale, zero = (weights[name + suffix].astype(np.float32) for suffix in SUFFIXES)
        return (values - zero) * scale

    # Exported names carry the wrapper's "model." prefix; quantised matrices are named after their graph node.
    state = {key.removeprefix("model."): value for key, value in weights.items()
             if key.startswith("model.") and not key.endswith(SUFFIXES)}
    for key in [k for k in weights if k.startswith("model.") and k.endswith("_quantized")]:
        state[key.removeprefix("model.").removesuffix("_quantized")] = dequantised(key.removesuffix("_quantized"))
    for node in graph.node:
        if node.op_type == "MatMulInteger":  # x @ W in the graph is Linear's W.T
            path = node.name.strip("/").removeprefix("model/").removesuffix("/MatMul_quant").replace("/", ".")
            state[f"{path}.weight"] = dequantised(node.input[1].removesuffix("_quantized")).T
    config = AutoConfig.from_pretrained(str(encoder))
    config.architectures = ["BertForQuestionAnswering"]
    model = AutoModelForQuestionAnswering.from_config(config)
    try:
        model.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
    except RuntimeError as exc:
        raise RagError(f"{reader / 'model.onnx'} does not match the {name} encoder: {str(exc)[:300]}") from None
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    for file in encoder.iterdir():
        if file.name.startswith(("tokenizer", "vocab", "special_tokens")):
            shutil.copy(file, folder / file.name)
