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

log = logging.getLogger("faqbot.pipeline")
HISTORY_TURNS = 6        # earlier user turns the guardrails and follow-ups read


class InputError(ValueError):
    """The message cannot be answered as given (empty, not text)."""


@dataclass(frozen=True)
class Turn:
    text: str
    history: tuple[str, ...]


def normalise(message: str, history: Sequence[str] = ()) -> Turn:
    """Unicode-normalise, drop control characters, collapse whitespace; history keeps its last turns."""
    if not isinstance(message, str):
        raise InputError("message must be text")
    text = _clean(message)
    if not text:
        raise InputError("message is empty")
    earlier = tuple(t for t in (_clean(h) for h in history if isinstance(h, str)) if t)
    return Turn(text=text, history=earlier[-HISTORY_TURNS:])


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
        self.embed = embed          # Callable[[list[str]], np.ndarray]
        self.retriever = retriever  # None while the vector store is unreachable: guardrails still run
        self.check = check
        self.clinic = clinic
        self._entries = {e.id: e for e in corpus.entries}
        # "Answer, then refer" (guardrails/policy/referrals.yaml): one vetted line under some answers.
        referrals = guardrails.policy.referrals
        self._referral_lines = {key: render_text(line, clinic) for key, line in referrals.lines.items()}
        self._referral_entries = dict(referrals.entries)

    def run(self, message: str, history: Sequence[str] = ()) -> Reply:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        turn = normalise(message, history)     # InputError goes to the caller: it is the user's to fix
        try:
            reply = self._run(turn, timings)
            t = time.perf_counter()
            problems = self.check.run(self._without_referral(reply))
            timings["check"] = _ms(t)
            if problems:
                log.error("final check blocked a reply: route=%s problems=%s", reply.route, problems)
                reply = self.fallback(f"final check: {'; '.join(problems)}")
        except Exception as exc:  # noqa: BLE001 - fail closed, whatever broke
            log.exception("turn failed (%s); sending the safe fallback", type(exc).__name__)
            reply = self.fallback(f"error in the pipeline: {type(exc).__name__}")
        timings["total"] = _ms(start)
        reply.timings_ms = timings
        return reply

    def _run(self, turn: Turn, timings: dict[str, float]) -> Reply:
        # Guardrails first: the crisis detector embeds every part of the message (and of the earlier
        # messages it has not seen); the embedder's cache then hands retrieval the whole message's vector.
        t = time.perf_counter()
        verdict = self.guardrails.run(turn.text, turn.history)
        timings["guardrails"] = _ms(t)
        if verdict.route != "pass":
            return self._decline(verdict)
        # Small talk only after the guardrails passed the message, and only when the whole message is small
        # talk (guardrails/policy/small_talk.yaml); resources kept by a risk earlier on stay (footer).
        small = self.messages.small_talk.reply_for(turn.text)
        if small is not None:
            return self._small_talk(verdict, *small)

        t = time.perf_counter()
        followup = bool(turn.history) and is_followup(turn.text)
        texts = [turn.text] + ([turn.history[-1]] if followup else [])
        try:
            vectors = self.embed(texts)
        except Exception as exc:  # noqa: BLE001 - the model is down: say so, with the clinic's contact
            log.error("embedding failed (%s)", type(exc).__name__)
            return self._unavailable(verdict)
        timings["embed"] = _ms(t)
        if self.retriever is None:
            return self._unavailable(verdict)

        t = time.perf_counter()
        query = RetrievalQuery(text=turn.text, vector=vectors[0],
                               context_text=turn.history[-1] if followup else None,
                               context_vector=vectors[1] if followup else None,
                               on_topic=followup or self.guardrails.mentions_domain(turn.text),
                               expected=self._expected_entries(verdict),
                               expected_min_score=self.guardrails.policy.referrals.expected_min_score)
        try:
            retrieval = self.retriever.run(query)
        except Exception as exc:  # noqa: BLE001 - store down: say so, keep guardrails working
            log.error("retrieval failed (%s)", type(exc).__name__)
            return self._unavailable(verdict)
        timings["retrieve"] = _ms(t)
        return self._compose(verdict, retrieval)

    # -- composing -----------------------------------------------------------------------------------
    def _decline(self, verdict: Verdict) -> Reply:
        m = self.messages
        if verdict.route == "crisis":
            text = m.crisis_ack if verdict.rule == "crisis.acknowledged" else m.crisis
            return Reply(route="crisis", reply=text, reason=verdict.reason, rule=verdict.rule,
                         layer=verdict.layer, resources=list(m.resources), evidence=_evidence(verdict))
        text = m.declines[verdict.route]
        suggestions = list(m.suggestions) if verdict.route == "out_of_scope" else []
        return Reply(route=verdict.route, reply=self._with_footer(text, verdict), reason=verdict.reason,
                     rule=verdict.rule, layer=verdict.layer, suggestions=suggestions, actions=list(m.actions),
                     resources=list(m.resources) if verdict.resources else [], evidence=_evidence(verdict))

    def _small_talk(self, verdict: Verdict, match, said) -> Reply:  # noqa: ANN001 - SmallTalkMatch, SmallTalkReply
        reason = f"small talk: {match.intent} ({match.lang})"
        if verdict.resources:
            reason += f"; crisis resources added: {verdict.reason}"
        return Reply(route="small_talk", reply=self._with_footer(said.text, verdict), reason=reason,
                     rule=f"small_talk.{match.intent}", suggestions=list(said.suggestions), actions=list(said.actions),
                     resources=list(self.messages.resources) if verdict.resources else [], evidence=_evidence(verdict))

    def _compose(self, verdict: Verdict, retrieval: Retrieval) -> Reply:
        candidates = [CandidateView(c.entry_id, self._entries[c.entry_id].question, c.score, c.dense, c.keyword,
                                    c.probability)
                      for c in retrieval.candidates]
        reason = retrieval.reason + (" (read with the previous question)" if retrieval.used_context else "")
        if verdict.resources:
            reason += f"; crisis resources added: {verdict.reason}"
        resources = list(self.messages.resources) if verdict.resources else []
        if retrieval.abstained or retrieval.best is None:
            return Reply(route="no_answer", reply=self._with_footer(self.messages.no_answer, verdict),
                         reason=reason, rule="retrieval.abstain", candidates=candidates, resources=resources,
                         suggestions=list(self.messages.suggestions), actions=list(self.messages.actions),
                         evidence=_evidence(verdict))
        entry = self._entries[retrieval.best.entry_id]
        actions = list(self.messages.actions) if entry.topic == "clinic_contact" else []
        text, referral = entry.render(self.clinic), self._referral(verdict, entry.id)
        if referral is not None:
            text = f"{text}\n\n{referral}"
            reason += f"; referral added ({self._referral_entries.get(entry.id) or verdict.refer})"
        return Reply(route="answer", reply=self._with_footer(text, verdict),
                     reason=reason, rule="retrieval.match", candidates=candidates, resources=resources,
                     actions=actions, sources=[SourceRef(entry.id, entry.question, entry.source_label)],
                     evidence=_evidence(verdict))

    def _expected_entries(self, verdict: Verdict) -> frozenset[str]:
        """For a general question the guardrails recognised, the entries that carry its referral line."""
        if verdict.refer is None:
            return frozenset()
        return frozenset(e for e, line in self._referral_entries.items() if line == verdict.refer)

    def _referral(self, verdict: Verdict, entry_id: str) -> str | None:
        """The line under an answer: the entry's own (referrals.yaml: entries), else the one the guardrails
        chose for a general question next to a decline (``verdict.refer``), else none."""
        key = self._referral_entries.get(entry_id) or verdict.refer
        return self._referral_lines.get(key) if key else None

    def _without_referral(self, reply: Reply) -> Reply:
        """The reply as the final check reads it: a vetted referral line under an answer is set aside (the
        policy loader checked it: one line, no dose, allowed placeholders). Anything else is left for the
        check to judge."""
        if reply.route != "answer":
            return reply
        footer = f"\n\n{self.messages.footer}"
        tail = footer if reply.reply.endswith(footer) else ""
        body = reply.reply[: len(reply.reply) - len(tail)]
        for line in self._referral_lines.values():
            if body.endswith(f"\n\n{line}"):
                return replace(reply, reply=body[: -len(line) - 2] + tail)
        return reply

    def _with_footer(self, text: str, verdict: Verdict) -> str:
        return f"{text}\n\n{self.messages.footer}" if verdict.resources else text

    def _unavailable(self, verdict: Verdict) -> Reply:
        return Reply(route="no_answer", reply=self._with_footer(self.messages.unavailable, verdict),
                     reason="answers are unavailable right now (vector store or model down)",
                     rule="retrieval.unavailable", actions=list(self.messages.actions),
                     resources=list(self.messages.resources) if verdict.resources else [])

    def fallback(self, why: str) -> Reply:
        """The safe reply when anything fails: crisis resources and the clinic's contact."""
        return Reply(route="fallback", reply=self.messages.fallback, reason=why, rule="fallback",
                     resources=list(self.messages.resources), actions=list(self.messages.actions))


def _evidence(verdict: Verdict) -> dict[str, object] | None:
    """What decided a guardrail verdict, for staff: the layer, the sentence, the score and its threshold."""
    if verdict.sentence is None and verdict.score is None:
        return None
    return {"layer": verdict.layer, "rule": verdict.rule, "sentence": verdict.sentence, "score": verdict.score,
            "threshold": verdict.threshold}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
