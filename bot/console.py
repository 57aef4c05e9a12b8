"""The staff console (Gradio, mounted at /staff behind a login): try the assistant and see why it answered.

Tab "Try it": a chat and, beside it, the route, the rule that fired with its file, the sentence and phrase
that decided, and the candidate entries retrieval ranked (also for declines: what would have been
answered), each with the threshold it had to reach. Tab "Corpus": entries by text, topic and review
status, with the full answer and every source. Tab "Feedback" (only with transcripts enabled):
thumbs-down answers and no_answer questions, redacted, grouped by similarity.

API for gradio_client (every output labelled; see README):
    "/explain" (message, history_json) -> (reply, route, why, decision, candidates, entry)
    "/browse" (search, topic, status) -> entries       "/entry" (entry_id) -> entry
    "/feedback" () -> groups                            (only with transcripts enabled)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from bot.corpus import TOPICS, Entry, load_corpus
from bot.followup import is_followup
from bot.pipeline import InputError, TurnPipeline, normalise
from bot.reply import Reply
from bot.retriever import RetrievalQuery
from bot.settings import ROOT
from guardrails.dose import find_dose_amounts
from guardrails.sentences import split_sentences

log = logging.getLogger("faqbot.console")
CANDIDATE_HEADERS = ["entry", "question", "score", "threshold", "verdict", "dense (cosine)", "keyword (BM25, 0-1)",
                     "classifier (probability)"]
CORPUS_HEADERS = ["id", "topic", "status", "question", "answer", "sources"]
FEEDBACK_HEADERS = ["group", "count", "kinds", "question (redacted)", "similar questions", "entries judged"]
RULE_FILES = {"dosing": "dosing_rules.yaml", "medical": "medical_rules.yaml", "scope": "scope_rules.yaml",
              "crisis": "crisis_rules.yaml"}
LAYER_FILES = {"lexicon": "crisis_lexicon.yaml", "classifier": "crisis_classifier.yaml",
               "error": "crisis_classifier.yaml"}
HISTORY_RULE_FILES = {"crisis.followup": "crisis_rules.yaml", "crisis.conversation": "crisis_classifier.yaml",
                      "crisis.acknowledged": "crisis_classifier.yaml", "crisis.sticky": "crisis_classifier.yaml"}


# ------------------------------------------------------------------------------------------- explaining

def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def rule_file(pipeline: TurnPipeline, reply: Reply) -> str | None:
    """The file that holds the rule (or threshold) behind a reply."""
    rule = reply.rule or ""
    if rule.startswith("retrieval."):
        return "config/settings.yaml (retrieval)"
    if not rule or rule == "fallback":
        return None
    name = HISTORY_RULE_FILES.get(rule) or LAYER_FILES.get(reply.layer or "") or RULE_FILES.get(rule.split(".")[0])
    if name is None:
        return None
    return _relative(Path(pipeline.guardrails.policy.source_dir) / name)


def matched_phrase(pipeline: TurnPipeline, text: str, reply: Reply) -> str | None:
    """The words of the (normalised) message that the rule matched, when a rule layer decided."""
    rule = reply.rule or ""
    policy = pipeline.guardrails.policy
    normalized = pipeline.guardrails.normalize(text)
    if reply.layer == "lexicon":
        return (reply.evidence or {}).get("sentence")
    if reply.layer != "rules" or "." not in rule:
        return None
    family, rule_id = rule.split(".", 1)
    if rule == "dosing.amount":    # a dose amount anywhere, or the rule named "amount"
        amounts = find_dose_amounts(policy.dosing.strip_exempt(normalized)[0])
        if amounts:
            return str(amounts[0])
    sets = {"dosing": [policy.dosing.rules], "medical": [policy.medical.rules], "scope": [policy.scope.rules],
            "crisis": [policy.crisis.rules.rules, policy.crisis.disclosure, policy.crisis.topic]}
    exempt = {"dosing": policy.dosing, "medical": policy.medical, "scope": policy.scope}.get(family)
    haystack = exempt.strip_exempt(normalized)[0] if exempt is not None else normalized
    for rules in sets.get(family, []):
        for candidate in rules:
            if family == "crisis" and rule_id not in (candidate.id, "disclosure", "topic_mention"):
                continue
            if family != "crisis" and candidate.id != rule_id:
                continue
            match = candidate.search(haystack)
            if match:
                return match.group(0).strip(" |")
    return None


def deciding_sentence(pipeline: TurnPipeline, text: str, reply: Reply, phrase: str | None) -> str | None:
    """The sentence of the message that decided: the classifier's, or the one holding the phrase."""
    evidence = reply.evidence or {}
    if evidence.get("sentence") and reply.layer != "lexicon":
        return str(evidence["sentence"])
    if not phrase:
        return None
    needle = pipeline.guardrails.normalize(phrase)
    for sentence in split_sentences(text):
        if needle and needle in pipeline.guardrails.normalize(sentence):
            return sentence
    return text if len(text) <= 300 else None


def decision(pipeline: TurnPipeline, text: str, reply: Reply) -> dict[str, Any]:
    """Everything that decided the route, as data (the JSON output of /explain)."""
    evidence = reply.evidence or {}
    phrase = matched_phrase(pipeline, text, reply)
    return {"route": reply.route, "rule": reply.rule, "layer": reply.layer, "file": rule_file(pipeline, reply),
            "sentence": deciding_sentence(pipeline, text, reply, phrase), "phrase": phrase,
            "score": evidence.get("score"), "threshold": evidence.get("threshold"), "reason": reply.reason,
            "language": {"detected": reply.detected_lang, "served": reply.lang}}


def candidate_rows(pipeline: TurnPipeline, text: str, history: list[str], reply: Reply) -> list[list[Any]]:
    """Ranked entries with the threshold each had to reach. For declines (no retrieval ran), retrieval is
    run here, so staff see what would have been answered had no guardrail fired."""
    retriever = pipeline.retriever
    if retriever is None:
        return []
    cleaned = normalise(text, history, window=pipeline.history_window)
    followup = bool(cleaned.history) and is_followup(cleaned.text)
    on_topic = followup or pipeline.guardrails.mentions_domain(cleaned.text)
    settings = retriever.settings
    threshold = settings.min_score if on_topic else settings.min_score_off_topic
    candidates = [(c.id, c.question, c.score, c.dense, c.keyword, c.probability) for c in reply.candidates]
    if not candidates and reply.route not in ("answer", "no_answer"):
        vector = pipeline.embed([cleaned.text])[0]
        found = retriever.run(RetrievalQuery(text=cleaned.text, vector=vector, on_topic=on_topic,
                                            translated=cleaned.text_lang == "es"))
        questions = {e.id: e.question for e in pipeline.corpus.entries}
        candidates = [(c.entry_id, questions.get(c.entry_id, ""), c.score, c.dense, c.keyword, c.probability)
                      for c in found.candidates]
    rows = []
    for i, (entry_id, question, score, dense, keyword, probability) in enumerate(candidates):
        if score < threshold:
            verdict = "below threshold"
        elif i == 0 and len(candidates) > 1 and score - candidates[1][2] < settings.min_margin:
            verdict = f"too close to #2 (margin {settings.min_margin})"
        elif i == 0:
            verdict = "answers" if reply.route == "answer" else f"would answer (declined: {reply.route})"
        else:
            verdict = "runner-up"
        rows.append([entry_id, question, score, threshold, verdict, dense, keyword, probability])
    return rows


def _why_markdown(reply: Reply, found: dict[str, Any]) -> str:
    layer = f" ({reply.layer} layer)" if reply.layer else ""
    why = (f"**Route:** `{reply.route}`  \n**Rule:** `{reply.rule or '-'}`{layer}")
    if found["file"]:
        why += f" in `{found['file']}`"
    why += f"  \n**Why:** {reply.reason}"
    why += f"  \n**Language:** detected `{reply.detected_lang}`, reply text in `{reply.lang}`"
    if reply.detected_lang not in (reply.lang, "other") and reply.route == "answer":
        why += " (this entry's Spanish text is not approved yet: the English answer was served, said so)"
    if found["sentence"]:
        why += f"  \n**Sentence:** \u201c{found['sentence']}\u201d"
    if found["phrase"]:
        why += f"  \n**Matched phrase:** \u201c{found['phrase']}\u201d"
    if found["score"] is not None and found["threshold"] is not None:
        why += f"  \n**Crisis classifier score:** {found['score']:.2f} (threshold {found['threshold']:.2f})"
    why += (f"  \n**Time:** {reply.timings_ms.get('total', 0):.1f} ms "
            f"({', '.join(f'{k} {v:.1f}' for k, v in reply.timings_ms.items() if k != 'total')})")
    if reply.resources:
        why += "  \n**Crisis resources shown:** " + ", ".join(r.label for r in reply.resources)
    return why


def explain(pipeline: TurnPipeline, message: str, history: list[str]
            ) -> tuple[str, str, str, dict[str, Any], list[list[Any]], str]:
    """One turn, with everything staff need to see why the reply was given."""
    try:
        reply = pipeline.run(message, history=history)
    except InputError as exc:
        return f"(not sent: {exc})", "-", "", {}, [], ""
    found = decision(pipeline, message, reply)
    try:
        candidates = candidate_rows(pipeline, message, history, reply)
    except Exception as exc:  # noqa: BLE001 - the explanation must not fail because the store is down
        log.error("candidates unavailable (%s)", type(exc).__name__)
        candidates = []
    entry_md = ""
    if reply.sources:
        entry_md = _entry_markdown(pipeline.corpus.get(reply.sources[0].id))
    return reply.reply, reply.route, _why_markdown(reply, found), found, candidates, entry_md


def _entry_markdown(entry: Entry) -> str:
    sources = "\n".join(f"- `{s.seed}`: \u201c{s.claim}\u201d" for s in entry.sources)
    return (f"### {entry.question}\n`{entry.id}` \u00b7 topic `{entry.topic}` \u00b7 review `{entry.status}` "
            f"\u00b7 file `{entry.file}`\n\n{entry.answer}\n\n**Rests on:**\n{sources}")


# ------------------------------------------------------------------------------------------- corpus

def browse(search: str, topic: str, status: str) -> list[list[str]]:
    corpus = load_corpus()   # re-read so staff see edits without a restart
    needle = (search or "").lower().strip()
    rows = []
    for e in corpus.all_entries:
        if topic and topic != "all" and e.topic != topic:
            continue
        if status and status != "all" and e.status != status:
            continue
        haystack = " ".join((e.id, e.question, *e.alternates, e.answer)).lower()
        if needle and needle not in haystack:
            continue
        sources = "\n".join(f"{s.seed}: {s.claim}" for s in e.sources)
        rows.append([e.id, e.topic, e.status, e.question, e.answer, sources])
    return rows


def show_entry(entry_id: str) -> str:
    for entry in load_corpus().all_entries:
        if entry.id == (entry_id or "").strip():
            return _entry_markdown(entry)
    return f"No entry with id `{(entry_id or '').strip()[:80]}`."


def local_theme() -> gr.themes.Base:
    """System fonts only: the default theme would fetch web fonts from a third party."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


# ------------------------------------------------------------------------------------------- the UI

def build_console(pipeline: TurnPipeline, status: Any, feedback: Any = None, transcripts: Any = None) -> gr.Blocks:
    """`feedback` (FeedbackStore) and `transcripts` (TranscriptStore): the Feedback tab appears only when
    transcripts are enabled, since without them no question text is kept."""
    with gr.Blocks(title="FAQ assistant: staff console", analytics_enabled=False) as console:
        gr.Markdown("# FAQ assistant: staff console\nTry questions as a patient would and see why each "
                    "reply was given. Nothing typed here is stored.")
        if status.warnings or status.index_error:
            gr.Markdown("\n".join(f"> \u26a0 {w}" for w in [*status.warnings, status.index_error or ""] if w))
        with gr.Tab("Try it"):
            with gr.Row():
                with gr.Column(scale=3):
                    chat = gr.Chatbot(label="Conversation", height=420)
                    message = gr.Textbox(label="Message", placeholder="How long is a session?", lines=1)
                    with gr.Row():
                        send = gr.Button("Send", variant="primary")
                        clear = gr.Button("Clear")
                with gr.Column(scale=2):
                    route = gr.Textbox(label="Route", interactive=False)
                    why = gr.Markdown(label="Why")
                    entry = gr.Markdown(label="Vetted entry")
            candidates = gr.Dataframe(headers=CANDIDATE_HEADERS, label="Candidate entries and their thresholds",
                                      interactive=False, wrap=True)
            found = gr.JSON(label="Decision", visible=False)
            history_json = gr.State("[]")

            def on_send(text: str, messages: list[dict], hist: str):  # noqa: ANN202
                earlier = json.loads(hist or "[]")
                reply, r, w, d, c, e = explain(pipeline, text, earlier)
                messages = (messages or []) + [{"role": "user", "content": text},
                                               {"role": "assistant", "content": reply}]
                return "", messages, json.dumps((earlier + [text])[-6:]), r, w, d, c, e

            def on_clear():  # noqa: ANN202
                return [], "[]", "", "", {}, [], ""

            outputs = [message, chat, history_json, route, why, found, candidates, entry]
            send.click(on_send, [message, chat, history_json], outputs, api_name="send", api_visibility="private")
            message.submit(on_send, [message, chat, history_json], outputs, api_name="send_on_enter",
                           api_visibility="private")
            clear.click(on_clear, None, [chat, history_json, route, why, found, candidates, entry],
                        api_name="clear", api_visibility="private")

            # A plain endpoint for gradio_client and scripts: (message, history_json) -> explanation.
            api_in = gr.Textbox(label="Message", visible=False)
            api_hist = gr.Textbox(label="Earlier user messages (JSON list)", visible=False)
            api_out = [gr.Textbox(label="Reply", visible=False), gr.Textbox(label="Route", visible=False),
                       gr.Markdown(label="Why", visible=False), gr.JSON(label="Decision", visible=False),
                       gr.Dataframe(label="Candidates", visible=False, headers=CANDIDATE_HEADERS),
                       gr.Markdown(label="Vetted entry", visible=False)]
            api_btn = gr.Button("Explain", visible=False)
            api_btn.click(lambda m, h: explain(pipeline, m, json.loads(h or "[]")), [api_in, api_hist], api_out,
                          api_name="explain")
        with gr.Tab("Corpus"):
            with gr.Row():
                search = gr.Textbox(label="Search", placeholder="esketamine")
                topic = gr.Dropdown(["all", *TOPICS], value="all", label="Topic")
                review = gr.Dropdown(["all", "approved", "draft", "rejected"], value="all", label="Review status")
            table = gr.Dataframe(headers=CORPUS_HEADERS, label="Entries", wrap=True, interactive=False, max_height=900,
                                 column_widths=["11%", "9%", "7%", "18%", "35%", "20%"])
            for control in (search, topic, review):
                control.change(browse, [search, topic, review], table, api_name="browse_on_change",
                               api_visibility="private")
            gr.Button("Search").click(browse, [search, topic, review], table, api_name="browse")
            console.load(browse, [search, topic, review], table, api_name="browse_on_load", api_visibility="private")
            with gr.Row():
                entry_id = gr.Textbox(label="Entry id", placeholder="sessions-length", scale=1)
                show = gr.Button("Show entry", scale=0)
            entry_view = gr.Markdown(label="Entry")
            show.click(show_entry, entry_id, entry_view, api_name="entry")
            entry_id.submit(show_entry, entry_id, entry_view, api_name="entry_on_enter", api_visibility="private")
        if feedback is not None and transcripts is not None:
            from bot.feedback import review_groups

            def load_feedback() -> list[list[Any]]:
                return review_groups(feedback.read(), transcripts.read(), pipeline.embed)

            with gr.Tab("Feedback"):
                gr.Markdown("Thumbs-down answers and questions the assistant could not answer, redacted and "
                            "grouped by similarity: candidates for new corpus entries or alternate phrasings.")
                groups = gr.Dataframe(headers=FEEDBACK_HEADERS, label="Feedback groups", wrap=True,
                                      interactive=False)
                gr.Button("Refresh").click(load_feedback, None, groups, api_name="feedback")
    return console


# ------------------------------------------------------------------------------------------- mounting

def mount_console(app: Any, pipeline: TurnPipeline, status: Any, settings: Any, host: str,
                  transcripts: Any = None) -> Any:
    """Mount the console at /staff behind the login from the environment (bot/staff_login.py).

    Without a login it is mounted only on a loopback host, and then answers loopback clients only.
    Failed logins lock a client address out (429) after five tries in 15 minutes."""
    from bot.feedback import FeedbackStore
    from bot.ratelimit import client_address
    from bot.server import _error
    from bot.settings import home
    from bot.staff_login import LoginConfigError, StaffLogin, is_loopback, mount_decision

    try:
        login = StaffLogin.from_env()
    except LoginConfigError as exc:
        log.error("staff console not mounted: %s", exc)
        return app
    mount, why = mount_decision(host, login, settings.server.trusted_proxies)
    (log.info if mount and login else log.warning)(why)
    if not mount:
        return app
    trusted = set(settings.server.trusted_proxies)
    feedback = None
    if transcripts is not None:
        feedback = FeedbackStore(home() / settings.server.feedback_path, settings.transcripts.retention_days,
                                 keep_text=True)
    app = gr.mount_gradio_app(app, build_console(pipeline, status, feedback, transcripts), path="/staff",
                              theme=local_theme(), ssr_mode=False, auth=login,
                              auth_message="Staff only. Sign in with the console password.")

    @app.middleware("http")
    async def staff_guard(request, call_next):  # noqa: ANN001, ANN202
        path = request.url.path
        if not (path == "/staff" or path.startswith("/staff/")):
            return await call_next(request)
        client = client_address(request, trusted)
        if login is None:
            if not is_loopback(client):
                return _error(403, "loopback_only", "the staff console without a login answers this machine only")
            return await call_next(request)
        if request.method == "POST" and path.rstrip("/") == "/staff/login":
            left = login.lockout.remaining(client)
            if left > 0:
                return _error(429, "locked_out", f"too many failed sign-ins; try again in {int(left // 60) + 1} "
                              "minutes", {"Retry-After": str(int(left) + 1)})
            response = await call_next(request)
            if response.status_code == 200:
                login.lockout.succeeded(client)
            elif response.status_code in (400, 401, 403):
                login.lockout.failed(client)
            return response
        return await call_next(request)

    return app
