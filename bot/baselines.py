"""Two simpler systems that `faqbot eval --compare` runs on the same cases, to show what our layers buy.

- "bm25": Okapi BM25 keyword ranking over each entry's question, alternates and answer; no guardrails,
  no abstain: always routes "answer" with the top entry's answer.
- "dense": the usual starter RAG: a plain LangChain Chroma similarity search over the ANSWER texts only
  (MiniLM embeddings, cosine space, a fresh store in a temp dir); always routes "answer" with the top hit.

Neither reads the conversation history: they are single-turn systems, as such starters usually are.

    with make_baselines(["bm25", "dense"], corpus, clinic) as systems:
        outcome = systems["bm25"].run("how long is a session?", [])
        outcome.route, outcome.reply, outcome.entry_id, outcome.candidates
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.bm25 import BM25
from bot.corpus import Corpus

BASELINES = ("bm25", "dense")
TOP_K = 3


@dataclass(frozen=True)
class Outcome:
    """What any evaluated system returns for one case: the fields the scorer reads."""
    route: str
    reply: str
    sources: list[dict] = field(default_factory=list)      # [{"id", "question", "source"}]
    candidates: list[str] = field(default_factory=list)    # entry ids, best first
    timings_ms: dict[str, float] = field(default_factory=dict)   # per stage, when the system reports them

    @property
    def entry_id(self) -> str | None:
        return self.sources[0]["id"] if self.sources else None


class _Baseline:
    name = ""

    def __init__(self, corpus: Corpus, clinic: dict[str, str]) -> None:
        self.corpus = corpus
        self.clinic = clinic
        self._entries = {e.id: e for e in corpus.entries}

    def _answer(self, ranked: list[str]) -> Outcome:
        entry = self._entries[ranked[0]]
        return Outcome(route="answer", reply=entry.render(self.clinic),
                       sources=[{"id": entry.id, "question": entry.question, "source": entry.source_label}],
                       candidates=ranked[:TOP_K])

    def run(self, message: str, history: Sequence[str] = ()) -> Outcome:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass


class BM25Baseline(_Baseline):
    """Keyword ranking only. With no shared term every entry scores 0 and the first entry is returned:
    a system that never abstains still has to say something."""
    name = "bm25"

    def __init__(self, corpus: Corpus, clinic: dict[str, str]) -> None:
        super().__init__(corpus, clinic)
        self.bm25 = BM25({e.id: " ".join((e.question, *e.alternates, e.answer)) for e in corpus.entries})
        self._order = {e.id: i for i, e in enumerate(corpus.entries)}

    def run(self, message: str, history: Sequence[str] = ()) -> Outcome:
        scores = self.bm25.run(message)
        ranked = sorted(self._entries, key=lambda i: (-scores.get(i, 0.0), self._order[i]))
        return self._answer(ranked)


class DenseBaseline(_Baseline):
    """LangChain `Chroma.similarity_search` over the answer texts, one document per entry."""
    name = "dense"

    def __init__(self, corpus: Corpus, clinic: dict[str, str], backend: str | None = "numpy") -> None:
        """``backend``: the encoder (`bot.embeddings.BACKENDS`; None for the product's default, as the bench
        uses to compare speed on equal terms)."""
        super().__init__(corpus, clinic)
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma

        from bot.embeddings import MiniLMEmbeddings

        self._tmp = tempfile.mkdtemp(prefix="faqbot-dense-baseline-")
        client = chromadb.PersistentClient(path=self._tmp, settings=Settings(anonymized_telemetry=False))
        embeddings = MiniLMEmbeddings(backend=backend)
        self.backend = embeddings.backend
        self.store = Chroma(collection_name="dense-baseline", client=client, embedding_function=embeddings,
                            collection_metadata={"hnsw:space": "cosine"})
        entries = list(corpus.entries)
        # Clinic-contact answers are templates: index them without the braces, as the main index does.
        self.store.add_texts([e.answer.replace("{", "").replace("}", "") for e in entries],
                             metadatas=[{"entry_id": e.id} for e in entries],
                             ids=[e.id for e in entries])

    def run(self, message: str, history: Sequence[str] = ()) -> Outcome:
        hits = self.store.similarity_search(message, k=TOP_K)
        ranked = [doc.metadata["entry_id"] for doc in hits]
        if not ranked:   # an empty store cannot happen with a loaded corpus; keep the contract anyway
            ranked = [self.corpus.entries[0].id]
        return self._answer(ranked)

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


def parse_compare(value: str | None) -> list[str]:
    """"bm25,dense" -> ["bm25", "dense"]; raises ValueError naming an unknown baseline."""
    names: list[str] = []
    for raw in (value or "").split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in BASELINES:
            raise ValueError(f"unknown baseline {name!r} in --compare (known: {', '.join(BASELINES)})")
        if name not in names:
            names.append(name)
    return names


@contextmanager
def make_baselines(names: Sequence[str], corpus: Corpus, clinic: dict[str, str]) -> Iterator[dict[str, _Baseline]]:
    classes = {"bm25": BM25Baseline, "dense": DenseBaseline}
    systems: dict[str, _Baseline] = {}
    try:
        for name in names:
            systems[name] = classes[name](corpus, clinic)
        yield systems
    finally:
        for system in systems.values():
            system.close()
