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

    def load(self) -> Visit:
        response = self.page.goto(self.base_url + "/", wait_until="load")
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
    assert panel.get_attribute("role") == "dialog" and panel.get_attribute("aria-label")
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
        assert contact.inner_text() == "Contact the clinic"
        assert v.w(".person a.contact").count() == 0
    else:
        assert contact.get_attribute("target") == "_blank"
        assert contact.get_attribute("rel") == "noopener noreferrer"
    box = v.w("textarea")
    assert box.get_attribute("maxlength") == "1000"
    assert v.shadow_eval("return root.querySelector('label[for=faqbot-input]').textContent;")

    reply = v.ask("how long does a ketamine infusion session take?", route="answer")
    assert "minute" in reply.inner_text().lower()
    assert reply.locator(".source").inner_text().startswith("Source: ")
    assert v.w(".msg.user").last.inner_text().strip().endswith("how long does a ketamine infusion session take?")
    v.shot("answer")

    # A welcome suggestion sends its question, and the history/session travel with it.
    sent: list[dict] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and sent.append(json.loads(r.post_data)))
    before = v.w(".msg.bot:not(.welcome)").count()
    v.w(".welcome-suggestions .suggestion").first.click()
    v.wait_reply(before)
    assert sent and sent[-1]["message"] == shown[0]
    assert sent[-1]["history"][0] == {"role": "user", "content": "how long does a ketamine infusion session take?"}
    assert sent[-1]["history"][1]["role"] == "assistant"
    assert re.fullmatch(r"[\w-]{8,128}", sent[-1]["session_id"])
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
