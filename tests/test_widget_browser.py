"""The website widget in a real browser: Debian's chromium driven by Playwright against `faqbot serve`.

Every step leaves a screenshot in test-artifacts/widget-*.png. Every request the page makes is recorded
and must stay on 127.0.0.1 (no fonts, scripts, trackers or API calls anywhere else).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ANSWER_TIMEOUT_MS = 60_000     # answers take well under a second; the first one may warm things up
HOTPINK = "rgb(255, 105, 180)"
HOST = "faqbot-widget"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One browser page on the demo site, with its requests and dialogs recorded."""

    def __init__(self, browser, base_url: str, artifacts: Path, name: str,
                 viewport: dict[str, int] | None = None) -> None:
        self.base_url = base_url
        self.artifacts = artifacts
        self.name = name
        self.step = 0
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.page.set_default_timeout(ANSWER_TIMEOUT_MS)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._on_dialog)
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:  # noqa: ANN001
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    # --- navigation and shadow-DOM helpers (Playwright's CSS locators pierce open shadow roots)

    def load(self, path: str = "/") -> Visit:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.status == 200
        self.page.locator(f"{HOST} .launcher").wait_for(state="visible")
        return self

    def w(self, selector: str):  # noqa: ANN201
        return self.page.locator(f"{HOST} {selector}")

    def open(self) -> None:
        self.w(".launcher").click()
        self.w(".panel").wait_for(state="visible")

    def ask(self, text: str, route: str | None = None):  # noqa: ANN201
        """Type a question, press Enter, and return the bot message that answers it."""
        before = self.w(".msg.bot:not(.welcome)").count()
        box = self.w("textarea")
        box.fill(text)
        box.press("Enter")
        return self.wait_reply(before, route)

    def wait_reply(self, before: int, route: str | None = None):  # noqa: ANN201
        self.page.wait_for_function(
            """([host, n]) => {
                 const root = document.querySelector(host).shadowRoot;
                 return root.querySelectorAll('.msg.bot:not(.welcome)').length > n;
               }""", arg=[HOST, before], timeout=ANSWER_TIMEOUT_MS)
        reply = self.w(".msg.bot:not(.welcome)").nth(before)
        if route is not None:
            assert reply.get_attribute("data-route") == route, reply.inner_text()
        return reply

    def shot(self, label: str) -> Path:
        self.step += 1
        path = self.artifacts / f"widget-{self.name}-{self.step:02d}-{label}.png"
        self.page.screenshot(path=str(path))
        return path

    def shadow_eval(self, body: str, arg=None):  # noqa: ANN001, ANN201
        return self.page.evaluate(
            f"([host, arg]) => {{ const root = document.querySelector(host).shadowRoot; {body} }}",
            [HOST, arg])

    def active_class(self) -> str | None:
        """Class of the focused element inside the widget, or None when focus is outside it."""
        return self.page.evaluate(
            """(host) => {
                 const h = document.querySelector(host);
                 if (document.activeElement !== h) return null;
                 const a = h.shadowRoot.activeElement;
                 return a ? (a.className || a.tagName.toLowerCase()) : null;
               }""", HOST)

    def assert_local_only(self) -> None:
        assert self.requests, "no requests recorded"
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            assert parts.hostname == "127.0.0.1", f"request left the machine: {url}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, live_server, artifacts, request):
    visits: list[Visit] = []

    def make(viewport: dict[str, int] | None = None) -> Visit:
        v = Visit(browser, live_server.url, artifacts, request.node.name.removeprefix("test_"), viewport)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.close()


def widget_config(live_server) -> dict:
    import httpx

    return httpx.get(live_server.url + "/widget-config.json", timeout=10).json()


def test_answer_with_notice_suggestions_and_source(visit, live_server):
    v = visit().load()
    v.shot("loaded")
    launcher = v.w(".launcher")
    assert launcher.inner_text().strip() == "Questions? Chat with us"
    assert launcher.get_attribute("aria-expanded") == "false"
    assert launcher.get_attribute("aria-controls") == "faqbot-panel"
    v.open()
    assert launcher.get_attribute("aria-expanded") == "true"
    panel = v.w("#faqbot-panel")
    assert panel.get_attribute("role") == "dialog" and panel.get_attribute("aria-labelledby") == "faqbot-title"
    v.shot("open")

    notice = v.w(".notice")
    assert "Not for emergencies: call or text 988, or call 911." in notice.inner_text()
    assert v.w(".notice a[href='tel:988']").count() == 1
    assert v.w(".notice a[href='tel:911']").count() == 1

    log = v.w("[role='log']")
    assert log.get_attribute("aria-live") == "polite"
    config = widget_config(live_server)
    v.w(".welcome-suggestions .suggestion").first.wait_for()
    shown = [b.strip() for b in v.w(".welcome-suggestions .suggestion").all_inner_texts()]
    assert 2 <= len(shown) <= 3 and shown == config["suggestions"][:3]

    contact = v.w(".person .contact")
    if "[SET" in config["contact_url"]:
        assert contact.inner_text() == "Contact the clinic for anything else."
        assert v.w(".person a.contact").count() == 0
    else:
        assert contact.get_attribute("target") == "_blank"
        assert contact.get_attribute("rel") == "noopener noreferrer"
    box = v.w("textarea")
    assert box.get_attribute("maxlength") is None     # nothing is cut silently: the counter says the limit
    assert v.w(".counter").inner_text() == "0 / 1,000 characters"
    assert v.shadow_eval("return root.querySelector('label[for=faqbot-input]').textContent;")

    # A welcome suggestion sends its question ...
    sent: list[dict] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and sent.append(json.loads(r.post_data)))
    before = v.w(".msg.bot:not(.welcome)").count()
    v.w(".welcome-suggestions .suggestion").first.click()
    v.wait_reply(before)
    assert sent and sent[-1]["message"] == shown[0] and sent[-1]["history"] == []

    # ... and the history and session travel with the next one.
    reply = v.ask("how long does a ketamine infusion session take?", route="answer")
    assert "minute" in reply.inner_text().lower()
    assert reply.locator(".source").inner_text().startswith("Source: ")
    assert v.w(".msg.user").last.inner_text().strip().endswith("how long does a ketamine infusion session take?")
    assert sent[-1]["history"][0] == {"role": "user", "content": shown[0]}
    assert sent[-1]["history"][1]["role"] == "assistant"
    assert re.fullmatch(r"[\w-]{8,128}", sent[-1]["session_id"])
    v.shot("answer")
    v.shot("suggestion")
    assert not v.console_errors, v.console_errors
    v.assert_local_only()


def test_crisis_message_shows_resources(visit):
    v = visit().load()
    v.open()
    reply = v.ask("I want to kill myself", route="crisis")
    assert "crisis" in (reply.get_attribute("class") or "").split()
    assert reply.locator("h3").inner_text().strip() == "You deserve support right now"
    hrefs = [a.get_attribute("href") for a in reply.locator(".resources a").all()]
    assert any(h.startswith("tel:988") for h in hrefs), hrefs
    assert any(h.startswith("sms:") for h in hrefs), hrefs
    assert "tel:911" in hrefs, hrefs
    assert "sms:741741?&body=HOME" in hrefs, hrefs
    assert not any("[SET" in h for h in hrefs), hrefs
    for link in reply.locator(".resources a[href^='https:']").all():
        assert link.get_attribute("rel") == "noopener noreferrer"
    border = v.shadow_eval("return getComputedStyle(root.querySelector('.msg.crisis')).borderTopStyle;")
    assert border == "solid"
    v.shot("crisis")
    v.assert_local_only()


def test_markup_is_shown_as_text(visit):
    v = visit().load()
    v.open()
    payload = "<img src=x onerror=alert(1)>"
    v.ask(payload)
    v.page.wait_for_timeout(500)
    assert v.dialogs == []
    user = v.w(".msg.user").last
    assert payload in user.inner_text()
    assert v.shadow_eval("return root.querySelector('[role=log]').querySelectorAll('img').length;") == 0
    assert v.page.evaluate("document.querySelectorAll('img').length") == 0
    v.shot("markup")
    v.assert_local_only()


def test_keyboard_only(visit):
    v = visit().load()
    page = v.page
    page.locator("body").click(position={"x": 5, "y": 5})   # start from the top of the document
    for _ in range(40):
        page.keyboard.press("Tab")
        if v.active_class() and "launcher" in v.active_class():
            break
    else:
        pytest.fail("the launcher is not reachable with Tab")
    outline = v.shadow_eval("const s = getComputedStyle(root.activeElement); return [s.outlineStyle, s.outlineWidth];")
    assert outline[0] != "none" and outline[1] != "0px", outline
    v.shot("launcher-focused")

    page.keyboard.press("Enter")
    v.w(".panel").wait_for(state="visible")
    page.wait_for_function(f"() => document.querySelector('{HOST}').shadowRoot.activeElement?.tagName === 'TEXTAREA'")
    before = v.w(".msg.bot:not(.welcome)").count()
    page.keyboard.type("What side effects are common?")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Thanks")
    assert v.w("textarea").input_value() == "What side effects are common?\nThanks"
    v.shot("typed")
    page.keyboard.press("Enter")
    reply = v.wait_reply(before)
    assert reply.get_attribute("data-route")
    assert v.w("textarea").input_value() == ""
    v.shot("answered")

    # Tab moves through the panel's controls and stays inside the widget.
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert v.active_class() is not None
    page.keyboard.press("Escape")
    v.w(".panel").wait_for(state="hidden")
    assert "launcher" in (v.active_class() or "")
    assert v.w(".launcher").get_attribute("aria-expanded") == "false"
    v.shot("closed")
    v.assert_local_only()


def test_phone_viewport_full_width(visit):
    v = visit(viewport={"width": 375, "height": 667}).load()
    v.shot("phone-closed")
    v.open()
    box = v.w(".panel").bounding_box()
    assert box is not None
    assert abs(box["width"] - 375) <= 2, box
    assert abs(box["height"] - 667) <= 2, box
    assert abs(box["x"]) <= 2 and abs(box["y"]) <= 2, box
    v.ask("How should I prepare for my first session?")
    # Nothing in the panel overflows sideways.
    overflow = v.shadow_eval(
        "const p = root.querySelector('.panel'); return [p.scrollWidth, p.clientWidth,"
        " root.querySelector('.log').scrollWidth, root.querySelector('.log').clientWidth];")
    assert overflow[0] <= overflow[1] and overflow[2] <= overflow[3], overflow
    v.shot("phone-answer")
    v.assert_local_only()


def test_host_styles_do_not_leak(visit):
    v = visit().load()
    v.open()
    page_button = v.page.evaluate("getComputedStyle(document.querySelector('main button')).backgroundColor")
    assert page_button == HOTPINK   # the host page's rule is live ...
    send_bg = v.shadow_eval("return getComputedStyle(root.querySelector('.send')).backgroundColor;")
    launcher_bg = v.shadow_eval("return getComputedStyle(root.querySelector('.launcher')).backgroundColor;")
    assert send_bg != HOTPINK and launcher_bg != HOTPINK   # ... but not inside the widget
    font = v.shadow_eval("return getComputedStyle(root.querySelector('.msg.bot')).fontFamily;")
    color = v.shadow_eval("return getComputedStyle(root.querySelector('.msg.bot')).color;")
    assert "serif" != font.strip() and not font.startswith("serif"), font
    assert color != "rgb(139, 0, 0)", color   # darkred
    v.shot("isolated")
    v.assert_local_only()


def test_errors_are_friendly(visit):
    v = visit().load()
    v.open()
    v.page.route("**/api/chat", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Retry-After": "5"},
        body=json.dumps({"error": {"code": "rate_limited", "message": "too many messages; RAW-SERVER-TEXT"}})))
    before = v.w(".msg.bot:not(.welcome)").count()
    v.w("textarea").fill("What side effects are common?")
    v.w(".send").click()
    reply = v.wait_reply(before, route="error")
    assert "Please wait a moment and try again." in reply.inner_text()
    assert "RAW-SERVER-TEXT" not in v.shadow_eval("return root.querySelector('.log').textContent;")
    assert v.w(".send").is_enabled()
    v.page.unroute("**/api/chat")
    v.page.route("**/api/chat", lambda route: route.abort("connectionrefused"))
    before += 1
    v.w("textarea").fill("Are you there?")
    v.w("textarea").press("Enter")
    reply = v.wait_reply(before, route="error")
    assert "try again" in reply.inner_text()
    assert v.w(".typing").count() == 0
    v.shot("errors")
    v.assert_local_only()


# ------------------------------------------------------------------------------ production readiness

HELP_HREFS = {"tel:988", "sms:988", "tel:911"}


def host_page(v: Visit, name: str, attributes: str) -> str:
    """Serve a stand-in clinic page embedding the widget with the given script attributes."""
    path = f"/{name}.html"
    html = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{name}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><link rel='icon' href='data:,'>"
            f"</head><body><main><h1>Clinic</h1><button type='button'>Page button</button></main>"
            f"<script src='/widget.js' {attributes} defer></script></body></html>")
    v.page.route(v.base_url + path, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    return path


def fake_config(v: Visit, live_server, **overrides) -> None:
    config = {**widget_config(live_server), **overrides}
    v.page.route("**/widget-config.json", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(config)))


def hrefs(locator) -> set[str]:  # noqa: ANN001
    return {a.get_attribute("href") for a in locator.locator("a").all()}


def test_offline_shows_help_and_a_retry_that_keeps_the_question(visit):
    v = visit().load()
    v.open()
    v.page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    before = v.w(".msg.bot:not(.welcome)").count()
    v.w("textarea").fill("I want to kill myself")
    v.w("textarea").press("Enter")
    card = v.wait_reply(before, route="error")
    assert HELP_HREFS <= hrefs(card), hrefs(card)          # help shown by the widget itself, no server needed
    assert "couldn't reach the assistant" in card.inner_text()
    assert v.w("textarea").input_value() == "I want to kill myself"    # the question is kept
    retry = card.locator(".retry")
    assert retry.inner_text() == "Try again"
    v.shot("offline")
    v.page.unroute("**/api/chat")
    retry.click()
    reply = v.wait_reply(before + 1, route="crisis")
    assert "988" in reply.inner_text()
    assert v.w(".msg.user").count() == 1                   # the retry resent it; it did not repeat the bubble
    assert v.w("textarea").input_value() == ""
    assert retry.is_disabled()
    v.shot("retried")
    v.assert_local_only()


def test_a_reply_that_never_comes_times_out_into_help(visit):
    v = visit()
    v.page.clock.install()
    v.load()
    v.open()
    v.page.route("**/api/chat", lambda route: None)        # the request hangs: never answered
    before = v.w(".msg.bot:not(.welcome)").count()
    v.w("textarea").fill("How long is a session?")
    v.w("textarea").press("Enter")
    v.w(".typing").wait_for()
    v.page.clock.run_for(31_000)                           # past the 30-second default
    card = v.wait_reply(before, route="error")
    assert HELP_HREFS <= hrefs(card) and card.locator(".retry").count() == 1
    assert v.w(".typing").count() == 0 and v.w(".send").is_enabled()
    v.shot("timeout")


def test_phone_panel_is_a_real_modal(visit):
    v = visit(viewport={"width": 375, "height": 667}).load()
    v.open()
    panel = v.w("#faqbot-panel")
    assert panel.get_attribute("aria-modal") == "true"
    assert v.page.evaluate("document.querySelector('main').inert") is True      # the page behind is inert
    seen = set()
    for _ in range(25):
        v.page.keyboard.press("Tab")
        where = v.shadow_eval("const a = root.activeElement; return a && root.querySelector('.panel').contains(a)"
                              " ? (a.className || a.tagName) : null;")
        assert where is not None, "focus left the chat panel"
        seen.add(where)
    assert {"hbtn new", "hbtn close", "send", "TEXTAREA"} <= seen, seen
    for _ in range(5):
        v.page.keyboard.press("Shift+Tab")
        assert v.shadow_eval("return root.querySelector('.panel').contains(root.activeElement);")
    v.shot("modal")
    # Escape works wherever focus is, even with nothing focused at all.
    v.shadow_eval("root.activeElement && root.activeElement.blur(); return 1;")
    v.page.evaluate("document.activeElement && document.activeElement.blur()")
    v.page.keyboard.press("Escape")
    v.w(".panel").wait_for(state="hidden")
    assert v.page.evaluate("document.querySelector('main').inert") is False
    assert "launcher" in (v.active_class() or "")


def test_desktop_panel_leaves_the_page_usable(visit):
    v = visit().load()
    v.open()
    assert v.w("#faqbot-panel").get_attribute("aria-modal") == "false"
    assert v.page.evaluate("document.querySelector('main').inert") is False
    v.page.locator("main button").focus()
    v.page.keyboard.press("Escape")                        # Escape on the page is the page's business
    assert v.w(".panel").is_visible()


def test_one_compact_crisis_card(visit):
    v = visit(viewport={"width": 375, "height": 667}).load()
    v.open()
    card = v.ask("I want to kill myself", route="crisis")
    assert v.w(".msg.crisis").count() == 1
    text = card.inner_text()
    assert text.count("741741") == 1, text                  # each way to get help said once, as a button
    assert text.count("911") == 1, text
    assert "[SET" not in text
    for url in re.findall(r"https://\S+", text):
        assert card.locator(f"a[href^='{url.rstrip('.')}']").count(), f"unlinked URL {url}"
    assert {"tel:988", "tel:911", "sms:741741?&body=HOME"} <= hrefs(card)
    assert card.locator("a[href^='sms:988']").count() == 1
    height = card.bounding_box()["height"]
    assert height < 520, height                            # was 749 px on a phone
    assert "crisis-state" in v.shadow_eval("return root.querySelector('.w').className;")
    v.shot("crisis-card")


def test_counter_warns_and_never_cuts(visit):
    v = visit().load()
    v.open()
    chats: list[str] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and chats.append(r.url))
    box = v.w("textarea")
    box.fill("a" * 950)
    assert v.w(".counter").inner_text() == "950 / 1,000 characters"
    assert "near" in v.w(".counter").get_attribute("class")
    box.fill("How long is a session? " + "x" * 1177)
    assert len(box.input_value()) == 1200                  # nothing cut
    counter = v.w(".counter").inner_text()
    assert "1,200 / 1,000" in counter and "200 over the limit" in counter, counter
    assert box.get_attribute("aria-invalid") == "true" and v.w(".send").is_disabled()
    assert "over the 1,000-character limit" in v.w("[role=status]").first.inner_text()
    box.press("Enter")
    v.shot("over-limit")
    assert chats == [] and v.w(".msg.user").count() == 0 and len(box.input_value()) == 1200
    box.fill("How long is a session?")
    assert v.w(".send").is_enabled() and box.get_attribute("aria-invalid") == "false"


def test_conversation_and_crisis_survive_reload_until_new_conversation(visit, live_server):
    v = visit().load()
    v.open()
    v.ask("how long does a ketamine infusion session take?", route="answer")
    v.ask("I want to kill myself", route="crisis")
    session = v.page.evaluate("sessionStorage.getItem('faqbot.session_id')")
    # Another page of the clinic's site, same tab.
    v.page.goto(live_server.url + "/?page=visit-us", wait_until="load")
    v.w(".launcher").wait_for()
    assert v.w(".launcher").get_attribute("aria-label").endswith("call or text 988")
    v.open()
    assert [m.get_attribute("data-route") for m in v.w(".msg.bot:not(.welcome)").all()] == ["answer", "crisis"]
    assert v.w(".msg.user").count() == 2
    assert "crisis-state" in v.shadow_eval("return root.querySelector('.w').className;")
    v.shot("restored")
    # The restored history still travels, so the server keeps the crisis context.
    sent: list[dict] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and sent.append(json.loads(r.post_data)))
    v.ask("ok thanks")
    assert sent[-1]["session_id"] == session and len(sent[-1]["history"]) == 4
    v.w(".hbtn.new").click()
    assert v.w(".msg.user").count() == 0 and v.w(".msg.bot:not(.welcome)").count() == 0
    assert "crisis-state" not in v.shadow_eval("return root.querySelector('.w').className;")
    assert v.page.evaluate("sessionStorage.getItem('faqbot.conversation')") is None
    assert v.page.evaluate("sessionStorage.getItem('faqbot.session_id')") != session
    v.page.reload(wait_until="load")
    v.open()
    assert v.w(".msg.user").count() == 0
    assert v.w(".welcome-suggestions .suggestion").first.is_enabled()
    v.shot("new-conversation")


def test_history_follows_the_servers_conversation_window(visit, live_server):
    # The widget sends as many earlier questions as /widget-config.json's history_turns says.
    assert widget_config(live_server)["history_turns"] >= 1
    v = visit()
    fake_config(v, live_server, history_turns=2)
    v.load()
    v.open()
    sent: list[dict] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and sent.append(json.loads(r.post_data)))
    for question in ("how long is a session?", "can I drive home afterwards?", "what should I wear?",
                     "do you take insurance?"):
        v.ask(question)
    history = sent[-1]["history"]
    assert [h["content"] for h in history if h["role"] == "user"] == ["can I drive home afterwards?",
                                                                       "what should I wear?"]


def test_privacy_note_and_policy_link(visit, live_server):
    v = visit().load()
    v.open()
    note = v.w(".privacy")
    assert "don't share your name or health details" in note.inner_text()
    assert "not stored" in note.inner_text()
    assert v.w(".privacy a").count() == 0                  # clinic.yaml's privacy_url is still a placeholder
    other = visit()
    fake_config(other, live_server, privacy_url="https://sample-clinic.example/privacy", transcripts=True,
                retention_days=30)
    other.load()
    other.open()
    link = other.w(".privacy a.policy")
    link.wait_for()
    assert link.get_attribute("href") == "https://sample-clinic.example/privacy"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert "kept for 30 days" in other.w(".privacy").inner_text()
    other.shot("privacy")


def test_thumbs_send_feedback_once(visit, live_server):
    v = visit().load()
    v.open()
    votes: list[dict] = []

    def record(route) -> None:  # noqa: ANN001
        votes.append(json.loads(route.request.post_data))
        route.fulfill(status=200, content_type="application/json", body='{"stored": true, "kept_text": false}')

    v.page.route("**/api/feedback", record)
    reply = v.ask("how long does a ketamine infusion session take?", route="answer")
    up, down = reply.locator(".vote.up"), reply.locator(".vote.down")
    assert up.get_attribute("aria-label") == "Helpful" and down.get_attribute("aria-label") == "Not helpful"
    with v.page.expect_response("**/api/feedback"):
        down.click()
    assert "Thanks" in reply.locator(".rate-note").inner_text()
    assert down.get_attribute("aria-pressed") == "true" and up.is_disabled() and down.is_disabled()
    down.click(force=True)                                 # a second click sends nothing
    assert len(votes) == 1
    vote = votes[0]
    assert vote["vote"] == "down" and vote["route"] == "answer" and vote["entry_id"]
    assert "message" not in vote                           # no text unless the clinic keeps transcripts
    v.shot("voted")
    crisis = v.ask("I want to kill myself", route="crisis")
    assert crisis.locator(".vote").count() == 0            # no thumbs on a crisis card
    v.page.reload(wait_until="load")
    v.open()
    again = v.w(".msg.bot[data-route=answer]").first
    assert again.locator(".vote.down").get_attribute("aria-pressed") == "true"
    assert again.locator(".vote.up").is_disabled()


def test_phone_numbers_contact_and_actions_are_buttons(visit, live_server):
    v = visit()
    fake_config(v, live_server, phone="(555) 123-4567", contact_url="https://sample-clinic.example/contact")
    reply = {"route": "no_answer", "reply": "Please call us at (555) 123-4567, or see https://sample-clinic.example/faq.",
             "sources": [], "actions": [
                 {"kind": "call", "label": "Call Sample Clinic", "href": "tel:+15551234567"},
                 {"kind": "link", "label": "Contact Sample Clinic", "href": "https://sample-clinic.example/contact"},
                 {"kind": "link", "label": "Sneaky", "href": "javascript:alert(1)"}]}
    v.page.route("**/api/chat", lambda route: route.fulfill(status=200, content_type="application/json",
                                                             body=json.dumps(reply)))
    v.load()
    v.open()
    footer = v.w(".person .contact-buttons")
    footer.wait_for()
    assert footer.locator("a.btn.call").get_attribute("href") == "tel:5551234567"
    assert footer.locator("a.btn.call").inner_text() == "Call (555) 123-4567"
    assert footer.locator("a.btn.contact").get_attribute("href") == "https://sample-clinic.example/contact"
    answer = v.ask("can I bring my dog?", route="no_answer")
    actions = answer.locator(".actions a.btn")
    assert [a.inner_text() for a in actions.all()] == ["Call Sample Clinic", "Contact Sample Clinic"]
    assert actions.first.get_attribute("href") == "tel:+15551234567"
    assert actions.nth(1).get_attribute("target") == "_blank"
    assert answer.locator("a[href^='javascript']").count() == 0 and "Sneaky" not in answer.inner_text()
    assert answer.locator("a.tel").get_attribute("href") == "tel:5551234567"          # the number in the text
    assert answer.locator("a[href='https://sample-clinic.example/faq']").count() == 1  # the link, without the dot
    v.shot("actions")


def test_old_suggestion_chips_are_disabled(visit):
    v = visit().load()
    v.open()
    v.w(".welcome-suggestions .suggestion").first.wait_for()
    off_topic = v.ask("what's the weather tomorrow?", route="out_of_scope")
    chips = off_topic.locator(".suggestion")
    assert chips.count() >= 2 and chips.first.is_enabled()
    assert all(c.is_disabled() for c in v.w(".welcome-suggestions .suggestion").all())
    v.ask("how long does a ketamine infusion session take?")
    assert all(c.is_disabled() for c in chips.all())
    v.shot("stale-chips")


def test_theme_colour_and_position_from_data_attributes(visit):
    v = visit()
    path = host_page(v, "themed", 'data-color="#0b6e4f" data-position="left"')
    v.load(path)
    launcher = v.w(".launcher")
    assert v.shadow_eval("return getComputedStyle(root.querySelector('.launcher')).backgroundColor;") == \
        "rgb(11, 110, 79)"
    assert launcher.bounding_box()["x"] < 100              # bottom-left
    v.open()
    assert v.w(".panel").bounding_box()["x"] < 100
    v.shot("themed")
    light = visit()
    light.load(host_page(light, "light", 'data-color="#ffd400"'))
    # A light brand colour gets dark text, so the launcher stays readable.
    assert light.shadow_eval("return getComputedStyle(root.querySelector('.launcher')).color;") == "rgb(17, 17, 17)"
    bad = visit()
    bad.load(host_page(bad, "bad", 'data-color="red;} * {display:none" data-position="middle"'))
    assert bad.shadow_eval("return getComputedStyle(root.querySelector('.launcher')).backgroundColor;") == \
        "rgb(23, 69, 122)"
    assert bad.w(".launcher").bounding_box()["x"] > 600


def test_docs_render_offline(visit):
    v = visit()
    v.page.goto(v.base_url + "/docs", wait_until="load")
    v.page.get_by_text("/api/feedback").first.wait_for()
    body = v.page.locator("body").inner_text()
    assert "/api/chat" in body and "ErrorResponse" in body and "415" in body
    assert not v.console_errors, v.console_errors
    v.shot("docs")
    v.assert_local_only()


def test_accessibility_checks_written_out(visit):
    """No axe-core is installed here; these are its checks that apply to the widget, written out."""
    v = visit().load()
    v.open()
    v.ask("how long does a ketamine infusion session take?", route="answer")
    problems = v.shadow_eval("""
        const out = [];
        const name = (n) => (n.getAttribute('aria-label') || n.textContent || '').trim();
        root.querySelectorAll('button, a[href]').forEach((n) => {
          if (n.getClientRects().length && !name(n)) out.push('no accessible name: ' + n.outerHTML.slice(0, 80));
          const label = n.getAttribute('aria-label');
          const visible = (n.textContent || '').trim();
          if (label && /[a-z0-9]/i.test(visible) && !label.startsWith(visible)) {
            out.push('label does not start with its text: ' + label);
          }
        });
        root.querySelectorAll('[aria-labelledby], [aria-describedby], [aria-controls]').forEach((n) => {
          ['aria-labelledby', 'aria-describedby', 'aria-controls'].forEach((a) => {
            (n.getAttribute(a) || '').split(/\\s+/).filter(Boolean).forEach((id) => {
              if (!root.getElementById(id)) out.push(a + ' points nowhere: ' + id);
            });
          });
        });
        const ids = [...root.querySelectorAll('[id]')].map((n) => n.id);
        if (new Set(ids).size !== ids.length) out.push('duplicate ids');
        const textarea = root.querySelector('textarea');
        if (!root.querySelector('label[for=' + textarea.id + ']')) out.push('textarea has no label');
        const lum = (c) => { const v = c.match(/\\d+/g).slice(0, 3).map((x) => { x /= 255;
          return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
          return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
        const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
        [['.launcher', '.launcher'], ['.send', '.send'], ['.notice', '.notice'], ['.privacy', '.person'],
         ['.counter', '.counter'], ['.msg.user', '.msg.user'], ['.source', '.msg.bot:not(.welcome)'],
         ['.lang[aria-pressed=false]', '.header'], ['.lang[aria-pressed=true]', '.lang[aria-pressed=true]']]
          .forEach(([fg, bg]) => {
            const f = root.querySelector(fg), b = root.querySelector(bg);
            if (!f || !b) { out.push('missing ' + fg); return; }
            const r = ratio(getComputedStyle(f).color, getComputedStyle(b).backgroundColor);
            if (r < 4.5) out.push('contrast ' + fg + ' ' + r.toFixed(2));
          });
        return out;""")
    assert problems == [], problems
    panel = v.w("#faqbot-panel")
    assert v.shadow_eval("return root.getElementById('faqbot-title').textContent;")
    assert panel.get_attribute("aria-labelledby") == "faqbot-title"
    v.shot("a11y")


def test_launcher_ready_mark(visit):
    v = visit().load()
    marks = v.page.evaluate("performance.getEntriesByName('faqbot:ready').length")
    assert marks == 1
