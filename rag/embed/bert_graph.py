"""A BERT encoder written out as an ONNX graph straight from its safetensors weights, with the `onnx` package.

Answering needs no torch this way (torch is most of an install's size): a BERT-family embedding model
(all-MiniLM-L6-v2, the packaged default) becomes the same last hidden state that torch's exporter gives
(tested to 1e-5), node for node what transformers' eager BertModel computes: embeddings and their layer
norm, then per layer self-attention with the padding mask added to the scores, and the erf-GELU feed-forward
block, each followed by a residual layer norm.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from rag.errors import RagError

OPSET = 17  # LayerNormalization is an operator from 17 on


def supported(model_path: Path) -> bool:
    config = json.loads((model_path / "config.json").read_text())
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (model_path / "model.safetensors").exists())


def write(model_path: Path, target: Path, inputs: tuple[str, ...], output: str) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = json.loads((model_path / "config.json").read_text())
    weights = {name.removeprefix("bert."): value for name, value in load_file(model_path / "model.safetensors").items()}
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    size, eps = hidden // heads, float(config["layer_norm_eps"])
    nodes, initializers = [], []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(name: str, transpose: bool = False) -> str:
        if name not in weights:
            raise RagError(f"{model_path}: its weights have no {name}; not a BERT model this exporter knows")
        value = weights[name].astype(np.float32)
        return constant(name, np.ascontiguousarray(value.T) if transpose else value)

    def node(op: str, ins: list[str], name: str, **attributes) -> str:
        nodes.append(helper.make_node(op, ins, [name], name=name, **attributes))
        return name

    def linear(x: str, prefix: str, out: str) -> str:
        product = node("MatMul", [x, weight(f"{prefix}.weight", transpose=True)], f"{out}/matmul")
        return node("Add", [product, weight(f"{prefix}.bias")], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node("LayerNormalization", [x, weight(f"{prefix}.weight"), weight(f"{prefix}.bias")], out,
                    axis=-1, epsilon=eps)

    ids, mask, types = inputs
    # Embeddings: word + position (0..length-1) + token type, then a layer norm.
    shape = node("Shape", [ids], "shape")
    length = node("Gather", [shape, constant("one_index", np.array(1, dtype=np.int64))], "length")
    positions = node("Range", [constant("zero", np.array(0, dtype=np.int64)), length,
                               constant("step", np.array(1, dtype=np.int64))], "positions")
    words = node("Gather", [weight("embeddings.word_embeddings.weight"), ids], "words")
    placed = node("Gather", [weight("embeddings.position_embeddings.weight"), positions], "placed")
    typed = node("Gather", [weight("embeddings.token_type_embeddings.weight"), types], "typed")
    summed = node("Add", [node("Add", [words, placed], "words_placed"), typed], "embedded")
    state = layer_norm(summed, "embeddings.LayerNorm", "embeddings")
    # The padding mask, added to every attention score: 0 where attended, the lowest float where padded.
    floated = node("Cast", [mask], "mask_float", to=TensorProto.FLOAT)
    unsqueezed = node("Unsqueeze", [floated, constant("mask_axes", np.array([1, 2], dtype=np.int64))], "mask_4d")
    inverted = node("Sub", [constant("one", np.array(1.0, dtype=np.float32)), unsqueezed], "mask_inverted")
    additive = node("Mul", [inverted, constant("lowest", np.array(np.finfo(np.float32).min, dtype=np.float32))],
                    "mask_additive")
    split = constant("split_heads", np.array([0, 0, heads, size], dtype=np.int64))
    merge = constant("merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    scale = constant("scale", np.array(1 / math.sqrt(size), dtype=np.float32))
    rsqrt2, half = constant("rsqrt2", np.array(1 / math.sqrt(2), np.float32)), constant("half", np.array(0.5, np.float32))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"

        def heads_of(kind: str, perm: list[int]) -> str:
            projected = linear(state, f"{p}.attention.self.{kind}", f"l{i}/{kind}")
            return node("Transpose", [node("Reshape", [projected, split], f"l{i}/{kind}/heads")], f"l{i}/{kind}/t",
                        perm=perm)

        query, key, value = heads_of("query", [0, 2, 1, 3]), heads_of("key", [0, 2, 3, 1]), heads_of("value", [0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [query, key], f"l{i}/scores/raw"), scale], f"l{i}/scores/scaled")
        probabilities = node("Softmax", [node("Add", [scores, additive], f"l{i}/scores")], f"l{i}/probabilities",
                             axis=-1)
        context = node("Transpose", [node("MatMul", [probabilities, value], f"l{i}/context/heads")],
                       f"l{i}/context/t", perm=[0, 2, 1, 3])
        merged = node("Reshape", [context, merge], f"l{i}/context")
        attended = linear(merged, f"{p}.attention.output.dense", f"l{i}/attention")
        state = layer_norm(node("Add", [attended, state], f"l{i}/attention/residual"),
                           f"{p}.attention.output.LayerNorm", f"l{i}/attention/normed")
        widened = linear(state, f"{p}.intermediate.dense", f"l{i}/intermediate")
        # GELU, the exact (erf) form: 0.5 x (1 + erf(x / sqrt 2))
        erf = node("Erf", [node("Mul", [widened, rsqrt2], f"l{i}/gelu/scaled")], f"l{i}/gelu/erf")
        shifted = node("Add", [erf, "one"], f"l{i}/gelu/shifted")
        gelu = node("Mul", [node("Mul", [widened, shifted], f"l{i}/gelu/product"), half], f"l{i}/gelu")
        narrowed = linear(gelu, f"{p}.output.dense", f"l{i}/output")
        state = layer_norm(node("Add", [narrowed, state], f"l{i}/output/residual"), f"{p}.output.LayerNorm",
                           output if i == config["num_hidden_layers"] - 1 else f"l{i}/output/normed")
    graph = helper.make_graph(
        nodes, "bert", [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in inputs],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["batch", "sequence", hidden])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="rag")
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
