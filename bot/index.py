"""The Chroma index of the corpus: built through langchain-chroma, reused while the corpus is unchanged.

Each approved entry is indexed three ways (its question, every alternate phrasing, its answer), each a
document whose metadata names the entry, so ranking happens per entry, not per chunk. A manifest holding
the corpus content hash is written last; a missing, stale, partly written or corrupted index is rebuilt.

Beside the Chroma store, the build writes a snapshot of its vectors (`vectors.npz`, ids sorted). A
local index that is reused is served from that snapshot by exact cosine search in NumPy: for a corpus
of about a thousand texts that is a 0.1 ms matrix product, where a Chroma query costs about 4 ms and
importing chromadb about 0.8 s of start-up. A snapshot that is missing or unreadable is rewritten from
Chroma (or the index rebuilt); a Chroma server (`--chroma-url`) is always queried directly.

    index = EntryIndex(index_dir())              # embedded PersistentClient under var/index
    status = index.ensure(corpus)                # "reused" | "built" | "rebuilt: <why>"
    hits = index.query(vector, n=40)             # [(entry_id, kind, cosine similarity), ...]
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from bot.corpus import Corpus
from bot.minilm import MODEL_ID

log = logging.getLogger("faqbot.index")
COLLECTION_PREFIX = "faq-"


@dataclass(frozen=True)
class IndexedText:
    doc_id: str
    entry_id: str
    kind: str      # question | alternate | answer | translation
    text: str


def _entry_and_kind(doc_id: str) -> tuple[str, str]:
    """("sessions-length", "alternate") from "sessions-length#alt3": the inverse of `documents`' ids."""
    entry_id, _, suffix = doc_id.rpartition("#")
    if suffix == "q":
        return entry_id, "question"
    if suffix == "a":
        return entry_id, "answer"
    if suffix.startswith("tr"):
        return entry_id, "translation"
    return entry_id, "alternate"


def documents(corpus: Corpus) -> list[IndexedText]:
    docs: list[IndexedText] = []
    for entry in corpus.entries:
        docs.append(IndexedText(f"{entry.id}#q", entry.id, "question", entry.question))
        for i, alt in enumerate(entry.alternates):
            docs.append(IndexedText(f"{entry.id}#alt{i}", entry.id, "alternate", alt))
        # Spanish (and any other translated) questions and alternates: phrasings like the English ones, so a
        # Spanish question finds the entry its English twin finds.
        for i, text in enumerate(entry.translated_phrasings):
            docs.append(IndexedText(f"{entry.id}#tr{i}", entry.id, "translation", text))
        # Clinic-contact answers are templates; index them without the placeholders' braces.
        docs.append(IndexedText(f"{entry.id}#a", entry.id, "answer", entry.answer.replace("{", "").replace("}", "")))
    return docs


ADD_BATCH = 4000


class IndexUnavailableError(RuntimeError):
    """The vector store cannot be reached (server mode) or opened."""


class EntryIndex:
    """One Chroma collection per corpus version, embedded or on a Chroma server."""

    def __init__(self, path: Path, chroma_url: str | None = None,
                 embeddings_factory: Callable[[], Any] | None = None) -> None:
        if chroma_url:
            parsed = urlparse(chroma_url)
            if parsed.scheme not in ("http", "https") or not parsed.hostname:
                raise ValueError(f"--chroma-url must look like http://host:port, got {chroma_url!r}")
        self.path = Path(path)
        self.chroma_url = chroma_url
        self._embeddings_factory = embeddings_factory
        self._client: Any = None
        self._collection: Any = None
        self._snapshot: tuple[np.ndarray, list[str]] | None = None   # (vectors, doc ids), for a reused local index
        self._name: str | None = None
        self._mask: np.ndarray | None = None    # which snapshot documents are translated phrasings
        self._count: int | None = None          # how many the Chroma collection holds
        self._digest: str | None = None         # of the snapshot's vectors and ids

    # -- opening -----------------------------------------------------------------------------------
    def _make_client(self, store: str | None = None) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if self.chroma_url:
            parsed = urlparse(self.chroma_url)
            try:
                return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                           ssl=parsed.scheme == "https", settings=settings)
            except Exception as exc:  # chromadb raises plain Exceptions on connection failure
                raise IndexUnavailableError(f"Chroma server at {self.chroma_url} unreachable: {exc}") from exc
        self.path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.path / (store or "chroma")), settings=settings)

    @property
    def _manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def _read_manifest(self) -> dict[str, Any] | None:
        if self.chroma_url:
            return None  # server mode: the collection name carries the content hash
        try:
            return json.loads(self._manifest_path.read_text())
        except (OSError, ValueError):
            return None

    @contextmanager
    def _lock(self):  # noqa: ANN202
        # Several workers may start at once: one builds, the others wait and reuse.
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path.parent / f".{self.path.name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure(self, corpus: Corpus) -> str:
        """Open the index for this corpus, building or rebuilding it when needed."""
        name = COLLECTION_PREFIX + corpus.content_hash
        doc_ids = [d.doc_id for d in documents(corpus)]
        expected = len(doc_ids)
        if self.chroma_url:
            return self._ensure_remote(corpus, name, expected)
        with self._lock():
            manifest = self._read_manifest()
            why = None
            if manifest is None:
                why = "no index yet" if not any(self.path.glob("chroma*")) else "manifest missing or unreadable"
            elif manifest.get("content_hash") != corpus.content_hash:
                why = "corpus changed"
            elif manifest.get("model") != MODEL_ID:
                why = "embedding model changed"
            if why is None:
                snapshot = self._read_snapshot(manifest["store"], doc_ids)
                if snapshot is not None:   # no chromadb import on this path
                    self._snapshot, self._name, self._mask = snapshot, name, None
                    return "reused"
                try:
                    self._client = self._make_client(manifest["store"])
                    self._collection = self._client.get_collection(name)
                    count = self._collection.count()
                    if count != expected:
                        why = f"index holds {count} documents, expected {expected}"
                    else:
                        self._write_snapshot(manifest["store"])
                        return "reused"
                except Exception as exc:  # corrupted sqlite, missing segment files, ...
                    why = f"index unreadable ({type(exc).__name__})"
            log.warning("rebuilding index: %s", why)
            self._build(corpus, name)
            return "built" if why == "no index yet" else f"rebuilt: {why}"

    def _ensure_remote(self, corpus: Corpus, name: str, expected: int) -> str:
        self._client, self._digest = self._make_client(), None
        try:
            self._collection = self._client.get_collection(name)
            if self._collection.count() == expected:
                return "reused"
        except Exception as exc:
            if "does not exist" not in str(exc) and "not found" not in str(exc).lower():
                raise IndexUnavailableError(f"Chroma server at {self.chroma_url}: {exc}") from exc
        self._build(corpus, name)
        return "built"

    def _build(self, corpus: Corpus, name: str) -> None:
        from langchain_chroma import Chroma

        store = None
        if not self.chroma_url:
            self._client = None
            self._collection = None
            if self._manifest_path.exists():
                self._manifest_path.unlink()
            # A fresh folder per build: Chroma caches clients per path inside a process, so reusing a
            # deleted path would hand back a stale, read-only database.
            store = f"chroma-{corpus.content_hash}-{time.time_ns()}"
        client = self._make_client(store)
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - absent is fine
            pass
        docs = documents(corpus)
        vectorstore = Chroma(collection_name=name, embedding_function=self._embeddings(), client=client,
                       collection_metadata={"hnsw:space": "cosine"})
        for start in range(0, len(docs), ADD_BATCH):   # Chroma refuses one add of more than ~5,400 texts
            batch = docs[start:start + ADD_BATCH]
            vectorstore.add_texts(texts=[d.text for d in batch], ids=[d.doc_id for d in batch],
                                  metadatas=[{"entry_id": d.entry_id, "kind": d.kind} for d in batch])
        self._client = client
        self._collection = client.get_collection(name)
        self._snapshot, self._name, self._mask, self._count, self._digest = None, name, None, None, None
        if not self.chroma_url:
            self._write_snapshot(store)
            tmp = self._manifest_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"content_hash": corpus.content_hash, "model": MODEL_ID, "store": store,
                                       "collection": name, "documents": len(docs)}, indent=2))
            os.replace(tmp, self._manifest_path)   # written last: its presence means the build finished
            for old in self.path.glob("chroma*"):
                if old.name != store:
                    shutil.rmtree(old, ignore_errors=True)

    def _snapshot_path(self, store: str) -> Path:
        return self.path / store / "vectors.npz"

    def _read_snapshot(self, store: str, doc_ids: list[str]) -> tuple[np.ndarray, list[str]] | None:
        """The store's vector snapshot when it is readable and holds exactly these documents."""
        try:
            with np.load(self._snapshot_path(store), allow_pickle=False) as data:
                ids = [str(i) for i in data["ids"]]
                vectors = np.asarray(data["vectors"], dtype=np.float32)
                digest = str(data["digest"]) if "digest" in data.files else None
        except (OSError, ValueError, KeyError, EOFError):
            return None
        if ids != sorted(doc_ids) or vectors.ndim != 2 or len(vectors) != len(ids) or not np.all(np.isfinite(vectors)):
            return None
        self._digest = digest   # None in a snapshot written before digests: computed when asked for
        return vectors, ids

    def _write_snapshot(self, store: str) -> None:
        """Save the collection's vectors (ids sorted) beside it; a read-only disk only costs speed."""
        vectors, ids = self._stored_vectors()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)   # cosine, as the collection's space
        path = self._snapshot_path(store)
        tmp = path.with_name(f"vectors.{os.getpid()}.tmp.npz")
        digest = _digest(vectors, ids)
        try:
            np.savez(tmp, ids=np.array(ids), vectors=vectors, digest=np.array(digest))
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("could not write the index snapshot (%s); queries go to Chroma", type(exc).__name__)
            return
        # From here on this process reads what every later start reads: the snapshot.
        self._snapshot, self._digest, self._mask = (vectors, ids), digest, None

    def _embeddings(self) -> Any:
        if self._embeddings_factory is not None:
            return self._embeddings_factory()
        from bot.embeddings import DiskCachedEmbeddings
        from bot.settings import models_dir

        backend = os.environ.get("FAQBOT_INDEX_EMBEDDINGS", "sentence-transformers")
        return DiskCachedEmbeddings(backend, models_dir() / "vectors")

    # -- querying ----------------------------------------------------------------------------------
    def query(self, vector: list[float], n: int, translations: bool = True) -> list[tuple[str, str, float]]:
        """Nearest documents as (entry_id, kind, cosine similarity), best first. ``translations=False``
        leaves out the translated phrasings (an English question is ranked exactly as before they existed)."""
        if self._snapshot is not None:
            vectors, ids = self._snapshot
            query = np.asarray(vector, dtype=np.float32)
            norm = float(np.linalg.norm(query))
            sims = vectors @ (query / norm if norm > 0 else query)
            if not translations:
                sims = np.where(self._translated_mask(), -np.inf, sims)
            n = min(n, len(ids) if translations else int((~self._translated_mask()).sum()))
            top = np.argpartition(-sims, n - 1)[:n] if n < len(ids) else np.arange(len(ids))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(*_entry_and_kind(ids[i]), float(sims[i])) for i in top]
        if not translations:
            # A Chroma server ranks everything: ask for enough to fill n after leaving translations out.
            hits = self.query(vector, n + self._translated_count(), translations=True)
            return [h for h in hits if h[1] != "translation"][:n]
        if self._collection is None:
            raise IndexUnavailableError("index not opened: call ensure() first")
        try:
            # Ids say entry and kind ("sessions-length#alt3"): reading them instead of the metadata
            # skips a database lookup per query (about 3 ms of a 15 ms turn).
            result = self._collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        except Exception as exc:
            raise IndexUnavailableError(f"vector store query failed: {type(exc).__name__}: {exc}") from exc
        ids, dists = result["ids"][0], result["distances"][0]
        return [(*_entry_and_kind(i), 1.0 - float(d)) for i, d in zip(ids, dists, strict=True)]

    @property
    def collection_name(self) -> str:
        if self._snapshot is not None and self._name:
            return self._name
        if self._collection is None:
            raise IndexUnavailableError("index not opened: call ensure() first")
        return str(self._collection.name)

    def vectors(self, translations: bool = True) -> tuple[np.ndarray, list[str]]:
        """Every stored vector with its entry id, for training the entry classifier (without the
        translated phrasings when ``translations`` is False)."""
        vectors, ids = self._snapshot if self._snapshot is not None else self._stored_vectors()
        if not translations:
            keep = [i for i, doc_id in enumerate(ids) if _entry_and_kind(doc_id)[1] != "translation"]
            vectors, ids = vectors[keep], [ids[i] for i in keep]
        return vectors, [_entry_and_kind(i)[0] for i in ids]

    def fingerprint(self, translations: bool = True) -> str:
        """A digest of exactly what `vectors(translations)` returns: a model trained on them can be cached
        under it and shared by every index that holds the same vectors."""
        if self._digest is None:   # a Chroma server's collection, or a snapshot written before digests
            vectors, ids = self._snapshot if self._snapshot is not None else self._stored_vectors()
            self._digest = _digest(vectors, ids)
        return hashlib.sha256(f"{self._digest}|{translations}".encode()).hexdigest()

    def _translated_mask(self) -> np.ndarray:
        if self._mask is None or len(self._mask) != len(self._snapshot[1]):
            self._mask = np.array([_entry_and_kind(i)[1] == "translation" for i in self._snapshot[1]], dtype=bool)
        return self._mask

    def _translated_count(self) -> int:
        if self._count is None:
            _, ids = self._stored_vectors()
            self._count = sum(1 for i in ids if _entry_and_kind(i)[1] == "translation")
        return self._count

    def _stored_vectors(self) -> tuple[np.ndarray, list[str]]:
        """Every vector in the Chroma collection with its document id, sorted by id."""
        if self._collection is None:
            raise IndexUnavailableError("index not opened: call ensure() first")
        try:
            result = self._collection.get(include=["embeddings"])
        except Exception as exc:
            raise IndexUnavailableError(f"vector store read failed: {type(exc).__name__}: {exc}") from exc
        # Chroma returns rows in storage order, which differs between builds: sort by id so that what is
        # trained or saved from them is the same wherever the index was built.
        order = sorted(range(len(result["ids"])), key=lambda i: result["ids"][i])
        return np.asarray(result["embeddings"], dtype=np.float32)[order], [result["ids"][i] for i in order]

    def healthy(self) -> bool:
        if self._snapshot is not None:
            return len(self._snapshot[1]) > 0
        try:
            return self._collection is not None and self._collection.count() > 0
        except Exception:  # noqa: BLE001
            return False


def _digest(vectors: np.ndarray, ids: list[str]) -> str:
    """sha256 of float32 vectors and their ids (about 10 ms for the corpus; stored in the snapshot)."""
    digest = hashlib.sha256(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
    digest.update("\n".join(ids).encode())
    return digest.hexdigest()
