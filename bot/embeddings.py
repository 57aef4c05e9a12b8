"""The embedding model, with LangChain's `Embeddings` methods (`embed_documents`, `embed_query`).

It does not subclass `langchain_core.embeddings.Embeddings`: importing langchain_core costs about 0.3 s
of every start, and LangChain's Chroma store only calls those two methods (the index tests build
through it).

Three backends compute the same all-MiniLM-L6-v2 vectors from the packaged weights:
- "onnx" (default once `faqbot index` has exported the graph): `bot.onnx_minilm.OnnxMiniLM`, ~4 ms a short text;
- "numpy" (the fallback when no export exists): `bot.minilm.MiniLMEncoder`, ~8 ms, loads in ~0.4 s;
- "sentence-transformers": the reference implementation (imports torch, ~11 s).
`tests/test_embeddings.py` holds them to cosine >= 0.9999 on the same texts.

Vectors are kept in a bounded in-memory LRU keyed by text: FAQ traffic repeats, and the crisis detector
re-reads the conversation's earlier messages every turn.

    embeddings = MiniLMEmbeddings()                # onnx, or numpy when not exported yet
    vector = embeddings.embed_query("how long is a session?")
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from bot.minilm import ENCODER_VERSION, MODEL_ID, MiniLMEncoder, ModelMissingError, packaged_model_path
from bot.settings import keep_newest

BACKENDS = ("onnx", "numpy", "sentence-transformers")
CACHE_SIZE = 4096   # vectors kept in memory (about 6 MB)


class MiniLMEmbeddings:
    """LangChain-compatible embeddings over the packaged MiniLM model; never touches a model hub."""

    def __init__(self, backend: str | None = None, cache_size: int = CACHE_SIZE) -> None:
        backend = backend or os.environ.get("FAQBOT_EMBEDDINGS") or _default_backend()
        if backend not in BACKENDS:
            raise ValueError(f"unknown embeddings backend {backend!r}; choose one of {BACKENDS}")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.backend = backend
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        if backend == "onnx":
            self._encode = _onnx_encoder().encode
        elif backend == "numpy":
            self._encoder = _numpy_encoder()
            self._encode = self._encoder.encode
        else:
            model = _st_model()
            self._encode = lambda texts: model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,   # progress bars would fill the server log during a rebuild
            ).astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 matrix, one row per text; texts seen recently come from the cache."""
        texts = list(texts)
        if not self._cache_size or len(texts) > self._cache_size // 4:
            return self._encode(texts)   # bulk work (index builds, training) bypasses the cache
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for t in found:
                self._cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self._encode(missing)
            with self._lock:
                for t, row in zip(missing, fresh, strict=True):
                    found[t] = row
                    self._cache[t] = row
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        if not texts:
            return self._encode([])
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()


def _default_backend() -> str:
    """onnx when `faqbot index` has exported the graph (and onnxruntime imports), numpy otherwise."""
    from bot.onnx_minilm import onnx_path
    from bot.settings import models_dir

    try:
        return "onnx" if onnx_path(packaged_model_path(), models_dir()).is_file() else "numpy"
    except (OSError, ModelMissingError):
        return "numpy"


@lru_cache(maxsize=1)
def _onnx_encoder():  # noqa: ANN202 - onnxruntime types stay out of the import path
    from bot.onnx_minilm import OnnxMiniLM, onnx_path
    from bot.settings import models_dir

    model_dir = packaged_model_path()
    threads = int(os.environ.get("FAQBOT_ENCODER_THREADS", "1"))
    return OnnxMiniLM(onnx_path(model_dir, models_dir()), model_dir, threads=threads)


@lru_cache(maxsize=1)
def _numpy_encoder() -> MiniLMEncoder:
    return MiniLMEncoder(packaged_model_path())


@lru_cache(maxsize=1)
def _st_model():  # noqa: ANN202 - torch types stay out of the fast path
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = packaged_model_path()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelMissingError("sentence-transformers is not installed; run `bash scripts/setup.sh`") from exc
    return SentenceTransformer(str(path), device="cpu")


class CachedEmbed:
    """Embeds fixed texts (the crisis examples, the negatives, the corpus's documents) once and keeps the
    vectors on disk.

    The cache key is the text list, the model id, the NumPy encoder's version and ``tag`` (the backend, where
    backends may differ in the last bits), so editing the texts or the encoder recomputes them. A missing or
    unreadable cache is simply recomputed; only the ``keep`` most recently used files stay.
    """

    def __init__(self, embed, folder, tag: str = "", keep: int = 32) -> None:  # noqa: ANN001
        self.embed = embed
        self.folder = Path(folder)
        self.tag = tag
        self.keep = keep

    def __call__(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256(json.dumps([MODEL_ID, ENCODER_VERSION, self.tag, list(texts)]).encode()).hexdigest()[:20]
        path = self.folder / f"vectors-{key}.npy"
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                os.utime(path)   # recently used: kept by the pruning below
                return vectors
        except (OSError, ValueError):
            pass
        vectors = self.embed(list(texts))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
            np.save(tmp, vectors)
            os.replace(tmp, path)
            keep_newest(self.folder, "vectors-*.npy", self.keep)
        except OSError:
            pass   # a read-only disk only costs start-up time
        return vectors


class DiskCachedEmbeddings:
    """LangChain-style embeddings whose `embed_documents` goes through a `CachedEmbed`: an index build embeds
    the same documents for every index of one corpus (tests, replicas, a forced rebuild). The backend's model
    is loaded only on a miss (sentence-transformers imports torch: seconds)."""

    def __init__(self, backend: str, folder: Path) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embeddings backend {backend!r}; choose one of {BACKENDS}")
        self.backend = backend
        self._cached = CachedEmbed(lambda texts: self.model.embed(texts), folder, tag=backend)

    @cached_property
    def model(self) -> MiniLMEmbeddings:
        return MiniLMEmbeddings(backend=self.backend)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._cached(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)
