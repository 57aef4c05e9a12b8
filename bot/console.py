"""The staff console (Gradio, mounted at /staff): try the assistant and see why it answered.

Tab "Try it": a chat, and beside it the route, the guardrail that fired and why, the top candidate
entries with their scores, and the vetted entry with its seed source.
Tab "Corpus": browse entries by search text, topic and review status.

API names for gradio_client: "/explain" (message, history_json) -> (reply, route, why, candidates, entry)
and "/browse" (search, topic, status) -> table.
"""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from bot.corpus import TOPICS, Entry, load_corpus
from bot.pipeline import InputError, TurnPipeline

CANDIDATE_HEADERS = ["entry", "question", "score", "dense (cosine)", "keyword (BM25, 0-1)", "classifier (probability)"]
CORPUS_HEADERS = ["id", "topic", "status", "question", "answer", "source"]


def explain(pipeline: TurnPipeline, message: str, history: list[str]) -> tuple[str, str, str, list[list[Any]], str]:
    """One turn, with everything staff need to see why the reply was given."""
    try:
        reply = pipeline.run(message, history=history)
    except InputError as exc:
        return f"(not sent: {exc})", "-", "", [], ""
    layer = f" ({reply.layer} layer)" if reply.layer else ""
    why = (f"**Route:** `{reply.route}`  \n**Rule:** `{reply.rule or '-'}`{layer}  \n**Why:** {reply.reason}  \n"
           f"**Time:** {reply.timings_ms.get('total', 0):.1f} ms "
           f"({', '.join(f'{k} {v:.1f}' for k, v in reply.timings_ms.items() if k != 'total')})")
    if reply.evidence:
        ev = reply.evidence
        if ev.get("sentence"):
            why += f"  \n**Decided by:** \u201c{ev['sentence']}\u201d"
        if ev.get("score") is not None:
            why += f"  \n**Crisis classifier score:** {ev['score']:.2f} (threshold {ev['threshold']:.2f})"
    if reply.resources:
        why += "  \n**Crisis resources shown:** " + ", ".join(r.label for r in reply.resources)
    candidates = [[c.id, c.question, c.score, c.dense, c.keyword, c.probability] for c in reply.candidates]
    entry_md = ""
    if reply.sources:
        entry = pipeline.corpus.get(reply.sources[0].id)
        entry_md = _entry_markdown(entry)
    return reply.reply, reply.route, why, candidates, entry_md


def _entry_markdown(entry: Entry) -> str:
    sources = "\n".join(f"- `{s.seed}`: \u201c{s.claim}\u201d" for s in entry.sources)
    return (f"### {entry.question}\n`{entry.id}` \u00b7 topic `{entry.topic}` \u00b7 review `{entry.status}` "
            f"\u00b7 file `{entry.file}`\n\n{entry.answer}\n\n**Rests on:**\n{sources}")


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
        rows.append([e.id, e.topic, e.status, e.question, e.answer, e.source_label])
    return rows


def local_theme() -> gr.themes.Base:
    """System fonts only: the default theme would fetch web fonts from a third party."""
    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "monospace"])


def build_console(pipeline: TurnPipeline, status: Any) -> gr.Blocks:
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
            candidates = gr.Dataframe(headers=CANDIDATE_HEADERS, label="Top candidate entries", interactive=False)
            history_json = gr.State("[]")

            def on_send(text: str, messages: list[dict], hist: str):  # noqa: ANN202
                earlier = json.loads(hist or "[]")
                reply, r, w, c, e = explain(pipeline, text, earlier)
                messages = (messages or []) + [{"role": "user", "content": text},
                                               {"role": "assistant", "content": reply}]
                return "", messages, json.dumps((earlier + [text])[-6:]), r, w, c, e

            outputs = [message, chat, history_json, route, why, candidates, entry]
            send.click(on_send, [message, chat, history_json], outputs, api_visibility="private")
            message.submit(on_send, [message, chat, history_json], outputs, api_visibility="private")
            clear.click(lambda: ([], "[]", "", "", [], ""), None, [chat, history_json, route, why, candidates, entry],
                        api_visibility="private")

            # A plain endpoint for gradio_client and scripts: (message, history_json) -> explanation.
            api_in = gr.Textbox(visible=False)
            api_hist = gr.Textbox(visible=False)
            api_out = [gr.Textbox(visible=False), gr.Textbox(visible=False), gr.Markdown(visible=False),
                       gr.Dataframe(visible=False, headers=CANDIDATE_HEADERS), gr.Markdown(visible=False)]
            api_btn = gr.Button(visible=False)
            api_btn.click(lambda m, h: explain(pipeline, m, json.loads(h or "[]")), [api_in, api_hist], api_out,
                          api_name="explain")
        with gr.Tab("Corpus"):
            with gr.Row():
                search = gr.Textbox(label="Search", placeholder="esketamine")
                topic = gr.Dropdown(["all", *TOPICS], value="all", label="Topic")
                review = gr.Dropdown(["all", "approved", "draft", "rejected"], value="all", label="Review status")
            table = gr.Dataframe(headers=CORPUS_HEADERS, value=lambda: browse("", "all", "all"),
                                 label="Entries", wrap=True, interactive=False)
            for control in (search, topic, review):
                control.change(browse, [search, topic, review], table, api_name="browse_on_change",
                               api_visibility="private")
            gr.Button("Search").click(browse, [search, topic, review], table, api_name="browse")
    return console
