"""One turn, as a straight line: normalise → embed → guardrails → retrieve → compose → final check.

    pipeline = build_pipeline()                       # bot.assistant
    reply = pipeline.run("how long is a session?", history=[])
    reply.route, reply.reply, reply.sources

Any exception in any stage gives the safe fallback reply (crisis resources and clinic contact), with the
error logged by type only: the patient's words are never logged.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.check import ReplyCheck
from bot.corpus import Corpus
from bot.followup import is_followup
from bot.messages import PolicyMessages, render_text
from bot.reply import CandidateView, Reply, SourceRef
from bot.retriever import HybridRetriever, Retrieval, RetrievalQuery
from guardrails import Guardrails, Verdict
from guardrails.language import SERVED, choose_language

log = logging.getLogger("faqbot.pipeline")


class InputError(ValueError):
    """The message cannot be answered as given (empty, not text)."""


@dataclass(frozen=True)
class Turn:
    text: str
    history: tuple[str, ...]
    lang: str = "en"     # the reply's language: "en", "es", or "other" (a language we do not serve)
    text_lang: str = "en"   # the language the patient writes in (the widget's choice aside): for retrieval


def normalise(message: str, history: Sequence[str] = (), lang: str | None = None, window: int | None = None) -> Turn:
    """Unicode-normalise, drop control characters, collapse whitespace; history keeps its last ``window`` turns
    (all when None); the language is the widget's choice (``lang``), else this message's, else the
    conversation's (guardrails.language)."""
    if not isinstance(message, str):
        raise InputError("message must be text")
    text = _clean(message)
    if not text:
        raise InputError("message is empty")
    earlier = tuple(t for t in (_clean(h) for h in history if isinstance(h, str)) if t)
    if window is not None:
        earlier = earlier[-window:] if window > 0 else ()
    written = choose_language(text, earlier)
    return Turn(text=text, history=earlier, lang=lang if lang in SERVED else written, text_lang=written)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())


class TurnPipeline:
    def __init__(self, corpus: Corpus, messages: PolicyMessages, guardrails: Guardrails,
                 embed, retriever: HybridRetriever | None, check: ReplyCheck, clinic: dict[str, str]) -> None:
        self.corpus = corpus
        self.messages = messages
        self.guardrails = guardrails
        # The conversation window, decided once in the guardrail policy (crisis_classifier.yaml history_window):
        # the earlier user messages a turn reads, the server keeps and the widget sends.
        self.history_window = guardrails.history_limit
        self.embed = embed          # Callable[[list[str]], np.ndarray]
        self.retriever = retriever  # None while the vector store is unreachable: guardrails still run
        self.check = check
        self.clinic = clinic
        self._entries = {e.id: e for e in corpus.entries}
        # "Answer, then refer" (guardrails/policy/referrals.yaml): one vetted line under some answers.
        referrals = guardrails.policy.referrals
        self._referral_lines = {key: render_text(line, clinic) for key, line in referrals.lines.items()}
        self._referral_entries = dict(referrals.entries)
        self._all_messages = (messages, *messages.translations.values())
        self._all_referral_lines = (*self._referral_lines.values(),
                                    *(line for m in self._all_messages for line in m.referral_lines.values()))

    def run(self, message: str, history: Sequence[str] = (), lang: str | None = None) -> Reply:
        """One turn. ``lang`` ("en" or "es") is the widget's choice of language; None detects it."""
        timings: dict[str, float] = {}
        start = time.perf_counter()
        # InputError goes to the caller: it is the user's to fix
        turn = normalise(message, history, lang, self.history_window)
        try:
            reply = self._run(turn, timings)
            t = time.perf_counter()
            problems = self.check.run(self._without_referral(reply))
            timings["check"] = _ms(t)
            if problems:
                log.error("final check blocked a reply: route=%s problems=%s", reply.route, problems)
                reply = self.fallback(f"final check: {'; '.join(problems)}", turn.lang)
        except Exception as exc:  # noqa: BLE001 - fail closed, whatever broke
            log.exception("turn failed (%s); sending the safe fallback", type(exc).__name__)
            reply = self.fallback(f"error in the pipeline: {type(exc).__name__}", turn.lang)
        timings["total"] = _ms(start)
        reply.timings_ms = timings
        reply.detected_lang = turn.lang
        return reply

    def _run(self, turn: Turn, timings: dict[str, float]) -> Reply:
        # Guardrails first: the crisis detector embeds every part of the message (and of the earlier
        # messages it has not seen); the embedder's cache then hands retrieval the whole message's vector.
        t = time.perf_counter()
        verdict = self.guardrails.run(turn.text, turn.history)
        timings["guardrails"] = _ms(t)
        m = self.messages.for_lang(turn.lang)       # English for a language we do not serve
        if verdict.route != "pass":
            return self._decline(verdict, m)
        # Small talk only after the guardrails passed the message, and only when the whole message is small
        # talk (guardrails/policy/small_talk.yaml); resources kept by a risk earlier on stay (footer).
        small = self.messages.small_talk.reply_for(turn.text)
        if small is not None:
            return self._small_talk(verdict, *small)
        if turn.lang == "other":
            return self._other_language(verdict)

        t = time.perf_counter()
        followup = bool(turn.history) and is_followup(turn.text)
        texts = [turn.text] + ([turn.history[-1]] if followup else [])
        try:
            vectors = self.embed(texts)
        except Exception as exc:  # noqa: BLE001 - the model is down: say so, with the clinic's contact
            log.error("embedding failed (%s)", type(exc).__name__)
            return self._unavailable(verdict, m)
        timings["embed"] = _ms(t)
        if self.retriever is None:
            return self._unavailable(verdict, m)

        t = time.perf_counter()
        query = RetrievalQuery(text=turn.text, vector=vectors[0],
                               context_text=turn.history[-1] if followup else None,
                               context_vector=vectors[1] if followup else None,
                               on_topic=followup or self.guardrails.mentions_domain(turn.text),
                               expected=self._expected_entries(verdict),
                               expected_min_score=self.guardrails.policy.referrals.expected_min_score,
                               translated=turn.text_lang == "es")
        try:
            retrieval = self.retriever.run(query)
        except Exception as exc:  # noqa: BLE001 - store down: say so, keep guardrails working
            log.error("retrieval failed (%s)", type(exc).__name__)
            return self._unavailable(verdict, m)
        timings["retrieve"] = _ms(t)
        return self._compose(verdict, retrieval, m)

    # -- composing -----------------------------------------------------------------------------------
    def _decline(self, verdict: Verdict, m: PolicyMessages) -> Reply:
        if verdict.route == "crisis":
            text = m.crisis_ack if verdict.rule == "crisis.acknowledged" else m.crisis
            return Reply(route="crisis", reply=text, reason=verdict.reason, rule=verdict.rule,
                         layer=verdict.layer, resources=list(m.resources), evidence=_evidence(verdict), lang=m.lang)
        text = m.declines[verdict.route]
        suggestions = list(m.suggestions) if verdict.route == "out_of_scope" else []
        return Reply(route=verdict.route, reply=self._with_footer(text, verdict, m), reason=verdict.reason,
                     rule=verdict.rule, layer=verdict.layer, suggestions=suggestions, actions=list(m.actions),
                     resources=list(m.resources) if verdict.resources else [], evidence=_evidence(verdict),
                     lang=m.lang)

    def _small_talk(self, verdict: Verdict, match, said) -> Reply:  # noqa: ANN001 - SmallTalkMatch, SmallTalkReply
        reason = f"small talk: {match.intent} ({match.lang})"
        if verdict.resources:
            reason += f"; crisis resources added: {verdict.reason}"
        m = self.messages.for_lang(match.lang)
        return Reply(route="small_talk", reply=self._with_footer(said.text, verdict, m), reason=reason,
                     rule=f"small_talk.{match.intent}", suggestions=list(said.suggestions), actions=list(said.actions),
                     resources=list(m.resources) if verdict.resources else [], evidence=_evidence(verdict),
                     lang=m.lang)

    def _other_language(self, verdict: Verdict) -> Reply:
        """A language we do not serve: a short bilingual note with the clinic's contact (the guardrails, which
        read every language they can, already ran)."""
        m = self.messages
        reason = "written in a language the assistant does not serve"
        if verdict.resources:
            reason += f"; crisis resources added: {verdict.reason}"
        return Reply(route="no_answer", reply=self._with_footer(m.other_language or m.no_answer, verdict, m),
                     reason=reason, rule="language.unsupported", actions=list(m.actions),
                     resources=list(m.resources) if verdict.resources else [], evidence=_evidence(verdict))

    def _compose(self, verdict: Verdict, retrieval: Retrieval, m: PolicyMessages) -> Reply:
        candidates = [CandidateView(c.entry_id, self._entries[c.entry_id].question, c.score, c.dense, c.keyword,
                                    c.probability)
                      for c in retrieval.candidates]
        reason = retrieval.reason + (" (read with the previous question)" if retrieval.used_context else "")
        if verdict.resources:
            reason += f"; crisis resources added: {verdict.reason}"
        resources = list(m.resources) if verdict.resources else []
        if retrieval.abstained or retrieval.best is None:
            return Reply(route="no_answer", reply=self._with_footer(m.no_answer, verdict, m),
                         reason=reason, rule="retrieval.abstain", candidates=candidates, resources=resources,
                         suggestions=list(m.suggestions), actions=list(m.actions),
                         evidence=_evidence(verdict), lang=m.lang)
        entry = self._entries[retrieval.best.entry_id]
        actions = list(m.actions) if entry.topic == "clinic_contact" else []
        # Only an approved translation is served; otherwise the English answer under one line saying so.
        translated = m.lang != "en" and entry.serves(m.lang)
        text, referral = entry.render(self.clinic, m.lang), self._referral(verdict, entry.id, m if translated else None)
        if referral is not None:
            text = f"{text}\n\n{referral}"
            reason += f"; referral added ({self._referral_entries.get(entry.id) or verdict.refer})"
        if m.lang != "en" and not translated and m.untranslated:
            text = f"{m.untranslated}\n\n{text}"
            reason += f"; no approved {m.lang} text for this entry: the English answer, said so"
        return Reply(route="answer", reply=self._with_footer(text, verdict, m),
                     reason=reason, rule="retrieval.match", candidates=candidates, resources=resources,
                     actions=actions, sources=[SourceRef(entry.id, entry.question, entry.source_label)],
                     evidence=_evidence(verdict), lang=m.lang if translated else "en")

    def _expected_entries(self, verdict: Verdict) -> frozenset[str]:
        """For a general question the guardrails recognised, the entries that carry its referral line."""
        if verdict.refer is None:
            return frozenset()
        return frozenset(e for e, line in self._referral_entries.items() if line == verdict.refer)

    def _referral(self, verdict: Verdict, entry_id: str, m: PolicyMessages | None = None) -> str | None:
        """The line under an answer: the entry's own (referrals.yaml: entries), else the one the guardrails
        chose for a general question next to a decline (``verdict.refer``), else none. In ``m``'s language
        when it has that line, else English."""
        key = self._referral_entries.get(entry_id) or verdict.refer
        if not key:
            return None
        if m is not None and key in m.referral_lines:
            return m.referral_lines[key]
        return self._referral_lines.get(key)

    def _without_referral(self, reply: Reply) -> Reply:
        """The reply as the final check reads it: a vetted referral line under an answer and the vetted
        "not yet translated" line above one are set aside (the policy loader checked them: one line, no
        dose, allowed placeholders). Anything else is left for the check to judge."""
        if reply.route != "answer":
            return reply
        text = reply.reply
        for m in self._all_messages:
            if m.untranslated and text.startswith(f"{m.untranslated}\n\n"):
                text = text[len(m.untranslated) + 2:]
                break
        tail = next((f"\n\n{m.footer}" for m in self._all_messages if text.endswith(f"\n\n{m.footer}")), "")
        body = text[: len(text) - len(tail)]
        for line in self._all_referral_lines:
            if body.endswith(f"\n\n{line}"):
                body = body[: -len(line) - 2]
                break
        return replace(reply, reply=body + tail)

    def _with_footer(self, text: str, verdict: Verdict, m: PolicyMessages | None = None) -> str:
        footer = (m or self.messages).footer
        return f"{text}\n\n{footer}" if verdict.resources else text

    def _unavailable(self, verdict: Verdict, m: PolicyMessages | None = None) -> Reply:
        m = m or self.messages
        return Reply(route="no_answer", reply=self._with_footer(m.unavailable, verdict, m),
                     reason="answers are unavailable right now (vector store or model down)",
                     rule="retrieval.unavailable", actions=list(m.actions),
                     resources=list(m.resources) if verdict.resources else [], lang=m.lang)

    def fallback(self, why: str, lang: str = "en") -> Reply:
        """The safe reply when anything fails: crisis resources and the clinic's contact."""
        m = self.messages.for_lang(lang)
        return Reply(route="fallback", reply=m.fallback, reason=why, rule="fallback",
                     resources=list(m.resources), actions=list(m.actions), lang=m.lang)


def _evidence(verdict: Verdict) -> dict[str, object] | None:
    """What decided a guardrail verdict, for staff: the layer, the sentence, the score and its threshold."""
    if verdict.sentence is None and verdict.score is None:
        return None
    return {"layer": verdict.layer, "rule": verdict.rule, "sentence": verdict.sentence, "score": verdict.score,
            "threshold": verdict.threshold}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
