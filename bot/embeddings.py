"""The embedding model behind LangChain's `Embeddings` interface.

Two backends compute the same all-MiniLM-L6-v2 vectors from the packaged weights:
- "numpy" (default): `bot.minilm.MiniLMEncoder`, loads in ~0.4 s, so `faqbot ask` starts fast;
- "sentence-transformers": the reference implementation (imports torch, ~11 s).
`tests/test_embeddings.py` holds them to cosine >= 0.9999 on the same texts.

    embeddings = MiniLMEmbeddings()                # numpy backend
    vector = embeddings.embed_query("how long is a session?")
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.index import MODEL_ID
from bot.minilm import ENCODER_VERSION, MiniLMEncoder, ModelMissingError, packaged_model_path

BACKENDS = ("numpy", "sentence-transformers")


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings over the packaged MiniLM model; never touches a model hub."""

    def __init__(self, backend: str | None = None) -> None:
        backend = backend or os.environ.get("FAQBOT_EMBEDDINGS", "numpy")
        if backend not in BACKENDS:
            raise ValueError(f"unknown embeddings backend {backend!r}; choose one of {BACKENDS}")
        self.backend = backend
        if backend == "numpy":
            self._encoder = _numpy_encoder()
            self._encode = self._encoder.encode
        else:
            model = _st_model()
            self._encode = lambda texts: model.encode(
                texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,   # progress bars would fill the server log during a rebuild
            ).astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 matrix, one row per text."""
        return self._encode(list(texts))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()


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
    """Embeds fixed texts (the crisis examples) once and keeps the vectors on disk beside the index.

    The cache key is the text list, the model id and the NumPy encoder's version, so editing the examples
    or the encoder recomputes them. Saves about
    a second on every cold start. A missing or unreadable cache is simply recomputed.
    """

    def __init__(self, embed, folder) -> None:  # noqa: ANN001
        self.embed = embed
        self.folder = Path(folder)

    def __call__(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256(json.dumps([MODEL_ID, ENCODER_VERSION, list(texts)]).encode()).hexdigest()[:20]
        path = self.folder / f"vectors-{key}.npy"
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                return vectors
        except (OSError, ValueError):
            pass
        vectors = self.embed(list(texts))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            os.replace(tmp, path)
        except OSError:
            pass   # a read-only disk only costs start-up time
        return vectors
