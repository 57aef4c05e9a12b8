"""The website widget in Spanish, in a real browser (same harness as test_widget_browser.py).

The UI language comes from the script tag's data-lang, else a Spanish <html lang>, else English; the patient's
English/Español switch in the header wins and is kept for the tab. Every step leaves a screenshot in
test-artifacts/widget-es-*.png.
"""

from __future__ import annotations

import json
import re

import pytest
from test_widget_browser import Visit, browser, hrefs, widget_config  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}

# What a patient sees, per language (the widget's own words; replies come from the server).
EN = {
    "launcher": "Questions? Chat with us",
    "title": "Patient questions",
    "new": "New chat",
    "close": "Close chat",
    "notice": "Not for emergencies: call or text 988, or call 911.",
    "placeholder": "Type your question…",
    "send": "Send",
    "counter": "0 / 1,000 characters",
    "welcome": "Hi! I can answer common questions about ketamine treatment at our clinic.",
    "privacy": "Please don't share your name or health details here. Your messages are not stored.",
    "contact": "Contact the clinic for anything else.",
    "langs": "Language",
}
ES = {
    "launcher": "¿Preguntas? Escríbanos",
    "title": "Preguntas de pacientes",
    "new": "Nuevo chat",
    "close": "Cerrar el chat",
    "notice": "No es para emergencias: llame al 988 y marque 2, o envíe AYUDA por texto al 988; o llame al 911.",
    "placeholder": "Escriba su pregunta…",
    "send": "Enviar",
    "counter": "0 / 1,000 caracteres",
    "welcome": "¡Hola! Puedo responder preguntas frecuentes sobre el tratamiento con ketamina en nuestra "
               "clínica.",
    "privacy": "No comparta aquí su nombre ni datos de salud. Sus mensajes no se guardan.",
    "contact": "Para cualquier otra consulta, comuníquese con la clínica.",
    "langs": "Idioma",
}
# English chrome that must not show once the UI is Spanish.
ENGLISH_CHROME = ("Questions? Chat", "Patient questions", "New chat", "Not for emergencies", "characters",
                  "Hi! I can answer", "don't share", "not stored", "Contact the clinic", "Try again",
                  "couldn't reach", "If you need help now", "Call 988", "Text 988", "Call 911")
SPANISH_HELP = {"Llame al 988 y marque 2": "tel:988", "Envíe AYUDA por texto al 988": "sms:988?&body=AYUDA",
                "Llame al 911": "tel:911"}

ANSWER_EN = {"route": "answer", "reply": "A session usually takes about 40 minutes, plus time to rest after.",
             "sources": [{"id": "sessions-length", "question": "How long is a session?", "source": "sessions"}],
             "suggestions": ["What side effects are common?"], "lang": "en"}
ANSWER_ES = {"route": "answer", "reply": "Una sesión suele durar unos 40 minutos, más un tiempo de descanso.",
             "sources": [{"id": "sessions-length", "question": "¿Cuánto dura una sesión?",
                          "source": "sessions"}],
             "suggestions": ["¿Qué efectos secundarios son comunes?"], "lang": "es"}
CRISIS_ES = {"route": "crisis", "lang": "es", "sources": [], "reply": (
    "Me alegra mucho que me lo haya contado. Usted merece el apoyo de una persona real ahora mismo.\n"
    "- Llame al 988 y marque 2 para hablar en español, o envíe AYUDA por mensaje de texto al 988.\n"
    "- Envíe HOME por mensaje de texto al 741741 (Crisis Text Line).\n"
    "- Si está en peligro inmediato, llame al 911."),
    "resources": [
        {"id": "lifeline_call", "label": "Línea 988", "text": "Llame al 988 y marque 2 para español",
         "kind": "call", "value": "988"},
        {"id": "lifeline_text", "label": "988 por mensaje de texto",
         "text": "Envíe AYUDA por mensaje de texto al 988", "kind": "sms", "value": "988"},
        {"id": "crisis_text_line", "label": "Crisis Text Line",
         "text": "Envíe HOME por mensaje de texto al 741741", "kind": "sms", "value": "741741"},
        {"id": "emergency", "label": "Servicios de emergencia", "text": "Llame al 911", "kind": "call",
         "value": "911"}]}


@pytest.fixture
def visit(browser, live_server, artifacts, request):  # noqa: F811 - browser is the imported fixture
    visits: list[Visit] = []
    name = "es-" + re.sub(r"[^\w.-]+", "-", request.node.name.removeprefix("test_")).strip("-")

    def make(viewport: dict[str, int] | None = None) -> Visit:
        v = Visit(browser, live_server.url, artifacts, name, viewport)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.close()


def clinic_page(v: Visit, name: str, html_lang: str = "en", attributes: str = "") -> str:
    """Serve a stand-in clinic page in the given language, embedding the widget with these attributes."""
    path = f"/{name}.html"
    html = (f"<!doctype html><html lang='{html_lang}'><head><meta charset='utf-8'><title>{name}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'><link rel='icon' href='data:,'>"
            "</head><body><main><h1>Clínica</h1><button type='button'>Botón</button></main>"
            f"<script src='/widget.js' {attributes} defer></script></body></html>")
    v.page.route(v.base_url + path, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
    return path


def record_chats(v: Visit) -> list[dict]:
    sent: list[dict] = []
    v.page.on("request", lambda r: r.url.endswith("/api/chat") and sent.append(json.loads(r.post_data)))
    return sent


def reply_with(v: Visit, *bodies: dict) -> None:
    """Answer /api/chat with these bodies in turn (the last one repeats)."""
    queue = list(bodies)

    def answer(route) -> None:  # noqa: ANN001
        body = queue.pop(0) if len(queue) > 1 else queue[0]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(body))

    v.page.route("**/api/chat", answer)


def ui_lang(v: Visit) -> str | None:
    return v.w("#faqbot-panel").get_attribute("lang")


def assert_chrome(v: Visit, words: dict[str, str], phone: bool = False) -> None:
    """The widget's own words, as shown: launcher, header, switch, notice, composer, counter, footer."""
    assert v.w(".launcher").inner_text().strip() == words["launcher"]
    assert v.w("#faqbot-title").inner_text().strip() == words["title"]
    assert v.w(".hbtn.new").inner_text().strip() == words["new"]
    assert v.w(".hbtn.close").get_attribute("aria-label") == words["close"]
    assert v.w(".langs").get_attribute("aria-label") == words["langs"]
    assert v.w(".notice").inner_text().strip() == words["notice"]
    assert v.w("textarea").get_attribute("placeholder") == words["placeholder"]
    assert v.w(".send").inner_text().strip() == words["send"]
    typed = len(v.w("textarea").input_value())
    assert v.w(".counter").inner_text().strip() == words["counter"].replace("0 /", f"{typed} /", 1)
    assert v.w(".welcome").inner_text().strip().startswith(words["welcome"])
    assert words["privacy"] in v.w(".privacy").inner_text()
    assert v.w(".person .contact").inner_text().strip() == words["contact"]
    assert v.shadow_eval("return root.querySelector('label[for=faqbot-input]').textContent;") == \
        ("Su pregunta" if words is ES else "Your question")
    if not phone:
        assert v.w(".header .sub").is_visible()


def assert_switch(v: Visit, lang: str) -> None:
    english, spanish = v.w(".lang[data-lang=en]"), v.w(".lang[data-lang=es]")
    assert english.inner_text().strip() == "English" and english.get_attribute("lang") == "en"
    assert spanish.inner_text().strip() == "Español" and spanish.get_attribute("lang") == "es"
    assert english.get_attribute("aria-pressed") == ("true" if lang == "en" else "false")
    assert spanish.get_attribute("aria-pressed") == ("true" if lang == "es" else "false")
    assert v.w(".langs").get_attribute("role") == "group"


def assert_no_english_chrome(v: Visit) -> None:
    shown = v.w(".panel").inner_text() + "\n" + v.w(".launcher").inner_text()
    leaks = [phrase for phrase in ENGLISH_CHROME if phrase in shown]
    assert leaks == [], (leaks, shown)


def assert_fits(v: Visit, width: int) -> None:
    """Nothing in the header or panel is pushed off screen or sideways by the longer Spanish words."""
    sizes = v.shadow_eval(
        "const p = root.querySelector('.panel'), h = root.querySelector('.header');"
        " return [p.scrollWidth, p.clientWidth, h.scrollWidth, h.clientWidth];")
    assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3], sizes
    for selector in (".lang[data-lang=en]", ".lang[data-lang=es]", ".hbtn.new", ".hbtn.close", ".send"):
        box = v.w(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
        assert box["height"] >= 24, (selector, box)                # big enough to tap
    assert v.w("#faqbot-title").bounding_box()["width"] >= 80       # the title is not squeezed away


# ------------------------------------------------------------------------------ Spanish from the page


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("source", ["data-lang", "html-lang"])
def test_spanish_ui_from_the_page(visit, live_server, source, viewport):
    v = visit(viewport=viewport)
    if source == "data-lang":
        path = clinic_page(v, "es-data-lang", html_lang="en", attributes='data-lang="es"')
    else:
        path = clinic_page(v, "es-html-lang", html_lang="es-MX")
    sent = record_chats(v)
    v.load(path)
    assert v.w(".launcher").inner_text().strip() == ES["launcher"]
    assert v.shadow_eval("return root.querySelector('.w').getAttribute('lang');") == "es"
    v.shot("closed")
    v.open()
    phone = viewport["width"] < 480
    assert ui_lang(v) == "es"
    assert_chrome(v, ES, phone=phone)
    assert_switch(v, "es")
    assert v.w(".notice a[href='tel:988']").count() == 1 and v.w(".notice a[href='tel:911']").count() == 1
    # The clinic's starter questions: in Spanish when the server has them, else marked as English.
    config = widget_config(live_server)
    spanish = (config.get("suggestions_by_lang") or {}).get("es")
    chips = v.w(".welcome-suggestions")
    v.w(".welcome-suggestions .suggestion").first.wait_for()
    if spanish:
        assert chips.get_attribute("lang") is None
        assert [c.strip() for c in chips.locator(".suggestion").all_inner_texts()] == spanish[:3]
    else:
        assert chips.get_attribute("lang") == "en"
    assert_no_english_chrome(v)
    assert_fits(v, viewport["width"])
    v.shot("open")
    # The page chose Spanish, so the server is told: replies come back in Spanish.
    reply_with(v, ANSWER_ES)
    reply = v.ask("¿Cuánto dura una sesión?", route="answer")
    assert sent[-1]["lang"] == "es"
    assert reply.get_attribute("lang") == "es" and v.w(".msg.user").last.get_attribute("lang") == "es"
    assert reply.locator(".source").inner_text().startswith("Fuente: ")
    assert reply.locator(".rate").inner_text().strip().startswith("¿Le fue útil?")
    assert reply.locator(".vote.up").get_attribute("aria-label") == "Útil"
    assert reply.locator(".vote.down").get_attribute("aria-label") == "No fue útil"
    assert_fits(v, viewport["width"])
    v.shot("answer")
    assert not v.console_errors, v.console_errors
    v.assert_local_only()


def test_english_page_leaves_the_language_to_the_server(visit):
    v = visit()
    sent = record_chats(v)
    reply_with(v, ANSWER_EN)
    v.load(clinic_page(v, "en-page", html_lang="en-US"))
    v.open()
    assert ui_lang(v) == "en"
    assert_chrome(v, EN)
    assert_switch(v, "en")
    v.ask("How long is a session?", route="answer")
    assert "lang" not in sent[-1]                          # nobody chose: the server follows the patient
    other = visit()
    sent_other = record_chats(other)
    reply_with(other, ANSWER_EN)
    other.load(clinic_page(other, "fr-page", html_lang="fr"))   # a language the widget has no words for
    other.open()
    assert ui_lang(other) == "en"
    other.ask("How long is a session?", route="answer")
    assert "lang" not in sent_other[-1]
    forced = visit()
    sent_forced = record_chats(forced)
    reply_with(forced, ANSWER_EN)
    forced.load(clinic_page(forced, "es-page-en-widget", html_lang="es", attributes='data-lang="en"'))
    forced.open()
    assert ui_lang(forced) == "en"                         # data-lang wins over the page's language
    assert_chrome(forced, EN)
    forced.ask("How long is a session?", route="answer")
    assert sent_forced[-1]["lang"] == "en"


# ------------------------------------------------------------------------------ the switch


def test_switch_changes_every_string_at_once_and_is_kept(visit):
    v = visit()
    sent = record_chats(v)
    v.page.route("**/api/chat", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Retry-After": "5"},
        body=json.dumps({"error": {"code": "rate_limited", "message": "too many messages"}})))
    v.load()
    v.open()
    assert_chrome(v, EN)
    assert_switch(v, "en")
    card = v.ask("How long is a session?", route="error")
    assert "You're sending messages quickly." in card.inner_text()
    assert "lang" not in sent[-1]
    v.shot("english")

    # Español: the header, notice, composer, footer and the widget's own cards change at once.
    v.w(".lang[data-lang=es]").click()
    assert ui_lang(v) == "es"
    assert_chrome(v, ES)
    assert_switch(v, "es")
    card = v.w(".msg.error").first
    assert card.get_attribute("lang") == "es"
    assert card.get_attribute("aria-label") == "Mensaje sin respuesta"
    assert "Está enviando mensajes muy rápido." in card.inner_text()
    assert "Si necesita ayuda ahora:" in card.inner_text()
    assert card.locator(".retry").inner_text().strip() == "Intentar de nuevo"
    assert v.w(".msg.user").last.inner_text().strip().endswith("How long is a session?")
    assert_no_english_chrome(v)
    assert v.shadow_eval("return root.activeElement && root.activeElement.getAttribute('data-lang');") == "es"
    assert v.page.evaluate("sessionStorage.getItem('faqbot.lang')") == "es"
    v.shot("espanol")

    # Kept for the tab: a reload (another page of the site) comes back in Spanish, conversation and all.
    v.page.unroute("**/api/chat")
    reply_with(v, ANSWER_ES)
    v.page.reload(wait_until="load")
    v.w(".launcher").wait_for()
    assert v.w(".launcher").inner_text().strip() == ES["launcher"]
    v.open()
    assert ui_lang(v) == "es"
    assert_chrome(v, ES)
    assert_switch(v, "es")
    assert "Está enviando mensajes muy rápido." in v.w(".msg.error").first.inner_text()
    v.shot("reloaded")
    reply = v.ask("¿Y los efectos secundarios?", route="answer")
    assert sent[-1]["lang"] == "es"                        # chosen, so it travels with each message
    assert reply.get_attribute("lang") == "es"

    # "New chat" forgets the conversation, not the language.
    v.w(".hbtn.new").click()
    assert v.w(".msg.user").count() == 0
    assert ui_lang(v) == "es" and v.w(".hbtn.new").inner_text().strip() == ES["new"]

    # And back to English, also kept and sent.
    v.w(".lang[data-lang=en]").click()
    assert ui_lang(v) == "en"
    assert_chrome(v, EN)
    assert_switch(v, "en")
    v.page.unroute("**/api/chat")
    reply_with(v, ANSWER_EN)
    v.ask("How long is a session?", route="answer")
    assert sent[-1]["lang"] == "en"
    v.page.reload(wait_until="load")
    v.open()
    assert ui_lang(v) == "en" and v.w(".launcher").inner_text().strip() == EN["launcher"]
    v.shot("back-to-english")
    v.assert_local_only()


def test_switch_on_a_phone(visit):
    v = visit(viewport=PHONE).load()
    v.open()
    assert_fits(v, PHONE["width"])
    v.page.keyboard.press("Shift+Tab")                     # the switch is in the modal's tab order
    for _ in range(15):
        if v.shadow_eval("return root.activeElement && root.activeElement.getAttribute('data-lang');") == "es":
            break
        v.page.keyboard.press("Shift+Tab")
    else:
        pytest.fail("the Español button is not reachable with the keyboard")
    v.page.keyboard.press("Enter")
    assert ui_lang(v) == "es"
    assert_chrome(v, ES, phone=True)
    assert_no_english_chrome(v)
    assert_fits(v, PHONE["width"])
    v.shot("phone-espanol")


# ------------------------------------------------------------------------------ messages say their language


def test_messages_carry_their_language(visit):
    v = visit()
    sent = record_chats(v)
    reply_with(v, ANSWER_ES, CRISIS_ES, ANSWER_EN)
    v.load()
    v.open()
    # The patient writes Spanish on an English page: the reply is marked Spanish, the UI stays English.
    reply = v.ask("¿Cuánto dura una sesión?", route="answer")
    assert reply.get_attribute("lang") == "es"
    assert reply.locator(".vote.up").get_attribute("aria-label") == "Útil"   # its own labels match it
    assert ui_lang(v) == "en" and v.w(".launcher").inner_text().strip() == EN["launcher"]
    assert v.w(".msg.user").last.get_attribute("lang") == "en"            # the UI language, as sent
    assert "lang" not in sent[-1]

    card = v.ask("Quiero quitarme la vida", route="crisis")
    assert card.get_attribute("lang") == "es"
    assert card.locator("h3").inner_text().strip() == "Usted merece apoyo ahora mismo"
    assert card.locator(".resources").get_attribute("aria-label") == "Formas de recibir ayuda ahora"
    links = hrefs(card)
    assert {"tel:988", "sms:988?&body=AYUDA", "sms:741741?&body=HOME", "tel:911"} <= links, links
    text = card.inner_text()
    assert text.count("741741") == 1 and text.count("AYUDA") == 1, text   # each way to get help once, as a button
    assert "crisis-state" in v.shadow_eval("return root.querySelector('.w').className;")
    assert v.w(".launcher").get_attribute("aria-label") == \
        "Questions? Chat with us. Help now: call or text 988"             # the UI is still English
    v.shot("spanish-replies-english-ui")

    # After switching, the patient's messages are marked Spanish; the replies keep their own language.
    v.w(".lang[data-lang=es]").click()
    assert v.w(".launcher").get_attribute("aria-label") == \
        "¿Preguntas? Escríbanos. Ayuda ahora: llame o envíe un texto al 988"
    assert v.w(".msg.user").first.get_attribute("lang") == "en"
    assert v.w(".msg.bot[data-route=answer]").first.get_attribute("lang") == "es"
    english = v.ask("ok thanks", route="answer")
    assert v.w(".msg.user").last.get_attribute("lang") == "es"
    assert sent[-1]["lang"] == "es"
    assert english.get_attribute("lang") == "en"
    assert english.locator(".source").inner_text().startswith("Source: ")
    assert english.locator(".vote.up").get_attribute("aria-label") == "Helpful"
    # Kept: after a reload every message still says its language.
    v.page.reload(wait_until="load")
    v.open()
    assert [m.get_attribute("lang") for m in v.w(".msg.user").all()] == ["en", "en", "es"]
    assert [m.get_attribute("lang") for m in v.w(".msg.bot:not(.welcome)").all()] == ["es", "es", "en"]
    v.shot("restored")


# ------------------------------------------------------------------------------ help when nothing answers


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_offline_help_in_spanish(visit, viewport):
    v = visit(viewport=viewport)
    v.load(clinic_page(v, "es-offline", html_lang="es-419"))
    v.open()
    v.page.route("**/api/chat", lambda route: route.abort("internetdisconnected"))
    before = v.w(".msg.bot:not(.welcome)").count()   # the retry below waits for the reply after this one
    card = v.ask("Quiero quitarme la vida", route="error")
    assert card.get_attribute("lang") == "es"
    text = card.inner_text()
    assert "no pude comunicarme con el asistente" in text and "Si necesita ayuda ahora:" in text
    for label, href in SPANISH_HELP.items():
        button = card.locator(".btn", has_text=label)
        assert button.count() == 1, (label, text)
        assert button.get_attribute("href") == href
        assert button.is_visible()
    assert card.locator(".retry").inner_text().strip() == "Intentar de nuevo"
    assert v.w("textarea").input_value() == "Quiero quitarme la vida"      # the question is kept
    assert_no_english_chrome(v)
    assert_fits(v, viewport["width"])
    v.shot("offline")

    # A reply that never comes: the same help, in Spanish.
    v.page.unroute("**/api/chat")
    v.page.route("**/api/chat", lambda route: route.fulfill(
        status=503, content_type="application/json", body='{"error": {"code": "x", "message": "x"}}'))
    card.locator(".retry").click()
    again = v.wait_reply(before + 1, route="error")
    assert {"tel:988", "sms:988?&body=AYUDA", "tel:911"} <= hrefs(again)
    assert "vuelva a intentarlo" in again.inner_text()
    v.shot("error")
    v.assert_local_only()


# ------------------------------------------------------------------------------ the real server


def test_spanish_question_gets_a_spanish_reply_from_the_server(visit):
    v = visit()
    sent = record_chats(v)
    v.load()                                               # the English demo page: nobody chose a language
    v.open()
    reply = v.ask("¿Cuánto dura una sesión de ketamina?")
    assert "lang" not in sent[-1]
    assert reply.get_attribute("lang") == "es", reply.inner_text()
    assert ui_lang(v) == "en"                              # the UI stays as it was
    assert re.search(r"\b(la|el|su|una|de|con)\b", reply.inner_text()), reply.inner_text()
    v.shot("server-spanish")

    # In the Spanish UI, a crisis: the server's Spanish card, with the Spanish 988 buttons.
    es = visit(viewport=PHONE)
    es.load(clinic_page(es, "es-real", html_lang="es-MX"))
    es.open()
    card = es.ask("Quiero quitarme la vida", route="crisis")
    assert card.get_attribute("lang") == "es"
    assert card.locator("h3").inner_text().strip() == "Usted merece apoyo ahora mismo"
    links = hrefs(card)
    assert {"tel:988", "tel:911"} <= links and any(h.startswith("sms:988") for h in links), links
    assert "988" in card.inner_text()
    es.shot("server-crisis")
    es.assert_local_only()
