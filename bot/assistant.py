"""Builds a ready turn pipeline from the files on disk: corpus, clinic, policy, model, index.

    pipeline, status = build_pipeline()           # embedded Chroma under var/index
    pipeline.run("how long is a session?")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.check import ReplyCheck
from bot.classifier import EntryClassifier
from bot.corpus import Corpus, load_corpus, load_negatives, negatives_path
from bot.crisis_model import crisis_classifier
from bot.embeddings import CachedEmbed, MiniLMEmbeddings
from bot.index import EntryIndex
from bot.messages import PolicyMessages, render_messages
from bot.pipeline import TurnPipeline
from bot.retriever import HybridRetriever
from bot.settings import Settings, clinic_placeholders, index_dir, load_clinic, load_settings
from guardrails import Guardrails, load_policy

log = logging.getLogger("faqbot.assistant")


@dataclass
class Status:
    """What start-up found: shown by `faqbot serve`, /readyz and the staff console."""
    corpus_entries: int = 0
    corpus_hash: str = ""
    index: str = "not opened"
    index_error: str | None = None
    model_loaded: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.model_loaded and self.index_error is None


def vetted_texts(corpus: Corpus, messages: PolicyMessages, clinic: dict[str, str]) -> set[str]:
    """Every whole text a reply may carry: each entry's answer (and its approved translations) and every
    policy template, in every language."""
    answers = {e.render(clinic, lang) for e in corpus.entries for lang in ("en", *messages.translations)}
    return answers | messages.templates()


def build_pipeline(settings: Settings | None = None, corpus: Corpus | None = None,
                   index_path: Path | None = None, chroma_url: str | None = None,
                   embeddings: MiniLMEmbeddings | None = None,
                   policy_dir: Path | None = None) -> tuple[TurnPipeline, Status]:
    settings = settings or load_settings()
    clinic = load_clinic()
    policy = load_policy(policy_dir)
    corpus = corpus or load_corpus()
    negatives = load_negatives()
    status = Status(corpus_entries=len(corpus), corpus_hash=corpus.content_hash)
    placeholders = clinic_placeholders(clinic)
    if placeholders:
        status.warnings.append(f"config/clinic.yaml still has placeholders: {', '.join(placeholders)}")
    embeddings = embeddings or MiniLMEmbeddings()
    status.model_loaded = True
    cache = CachedEmbed(embeddings.embed, (index_path or index_dir()).parent / "cache")
    guardrails = Guardrails(policy, classifier=crisis_classifier(), embed=embeddings.embed)
    index = EntryIndex(index_path or index_dir(), chroma_url=chroma_url)
    retriever: HybridRetriever | None = None
    try:
        status.index = index.ensure(corpus)
        classifier = EntryClassifier.for_index(index, cache(list(negatives)) if negatives else None)
        translated = None
        if any(e.translations for e in corpus.entries):
            both = list(negatives) + list(load_negatives(negatives_path(lang="es")))
            translated = EntryClassifier.for_index(index, cache(both) if both else None, translations=True)
        retriever = HybridRetriever(corpus, index, settings.retrieval, classifier,
                                    translated_classifier=translated)
    except Exception as exc:  # noqa: BLE001 - store down: guardrails and fallbacks keep working
        status.index_error = f"{type(exc).__name__}: {exc}"
        log.error("index unavailable: %s", status.index_error)
    messages = render_messages(policy, clinic)
    allowed = vetted_texts(corpus, messages, clinic)
    check = ReplyCheck(allowed=allowed, footer=(messages.footer, *(m.footer for m in messages.translations.values())))
    pipeline = TurnPipeline(corpus, messages, guardrails, embeddings.embed, retriever, check, clinic)
    return pipeline, status
