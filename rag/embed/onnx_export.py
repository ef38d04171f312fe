"""Export a sentence-transformers model's transformer to ONNX, once, into the cache folder.

A BERT-family model (the packaged default) is written out from its weights by `bert_graph.py`, without
torch; another architecture goes through torch's exporter, which needs the `torch` extra. The file is reused
by every later start. It goes to a temporary name first and is renamed into place, so a crash never leaves
a half-written model behind.
"""

from __future__ import annotations

import hashlib
import sys
import warnings
from pathlib import Path

from rag.atomic import replacing
from rag.embed import bert_graph
from rag.errors import RagError
from rag.registry import TORCH, require

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
EXPORT_VERSION = "3"  # bump when the exported graph changes, so cached exports are redone
# torch's exported scaled-dot-product attention masks with Where and then clears NaNs with IsNaN + Where
# in every layer, on every attention score; ONNX Runtime spent a quarter of the int8 reader's time there.
# The "eager" implementation adds the mask instead: same outputs (to 3e-6), none of those nodes.
EXPORTED_ATTENTION = "eager"


def cached_export(model_path: Path, cache_dir: Path) -> Path:
    """The ONNX file for this model, exporting it first if the cache does not have it yet."""
    weights = next((model_path / name for name in ("model.safetensors", "pytorch_model.bin")
                    if (model_path / name).exists()), None)
    fingerprint = hashlib.sha256((model_path / "config.json").read_bytes())
    fingerprint.update(str(weights.stat().st_size if weights else 0).encode())
    fingerprint.update(EXPORT_VERSION.encode())
    target = cache_dir / "onnx" / f"{model_path.name}-{fingerprint.hexdigest()[:16]}" / "model.onnx"
    if not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RagError(f"cannot keep the embedding model's ONNX export in {cache_dir} (RAG_CACHE_DIR): "
                           f"{exc.strerror or exc}; choose a folder you may write to") from None
        print(f"exporting the embedding model to ONNX, once, into {target.parent} …", file=sys.stderr)
        with replacing(target) as temporary:
            if bert_graph.supported(model_path):
                bert_graph.write(model_path, temporary, INPUTS, "last_hidden_state")
            else:
                require(f"exporting {model_path.name} (not a BERT model) to ONNX", TORCH)
                export(model_path, temporary)
    return target


def export(model_path: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # a bar for loading 100 tensors is noise

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation=EXPORTED_ATTENTION)
    model = LastHiddenState(model.eval())
    export_module(model, target, ["last_hidden_state"])


def export_module(model, target: Path, outputs: list[str]) -> None:
    """Write a torch module taking (input_ids, attention_mask, token_type_ids) to ONNX, batch and length dynamic."""
    import torch

    example = torch.ones(2, 8, dtype=torch.long)
    axes = {"batch": 0, "sequence": 1}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            model, (example, torch.ones_like(example), torch.zeros_like(example)), str(target),
            input_names=list(INPUTS), output_names=outputs,
            dynamic_axes={name: {v: k for k, v in axes.items()} for name in (*INPUTS, *outputs)},
            opset_version=17, dynamo=False,
        )
