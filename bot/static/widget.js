/*
 * Patient FAQ chat widget for ketamine-therapy clinics.
 *
 * Embed with one tag:
 *   <script src="https://clinic-bot.example/widget.js" data-api="https://clinic-bot.example" defer></script>
 * Optional attributes:
 *   data-api       the assistant's origin (default: where this script was loaded from)
 *   data-color     the clinic's colour, "#rgb" or "#rrggbb" (text colours are chosen for contrast)
 *   data-position  "right" (default) or "left"
 *   data-timeout   seconds to wait for a reply before showing help and a retry (default 30)
 *   data-lang      "en" or "es": the widget's language (default: the page's <html lang> when it is Spanish,
 *                  else English). Patients can switch between English and Espanol in the chat header.
 *
 * Self-contained vanilla JS: no libraries, fonts, images or third-party requests. The UI lives in an
 * open Shadow DOM so the host page's styles cannot leak in. Everything that comes from the server or
 * the patient is rendered with textContent / text nodes, never as HTML. The conversation and crisis
 * state are kept in sessionStorage (this tab only) until "New conversation".
 */
(function () {
  "use strict";

  if (window.__faqbotWidget) {
    return;
  }
  window.__faqbotWidget = true;

  // document.currentScript is only set while this file runs for the first time: read it now.
  var script = document.currentScript;
  if (!script) {
    var candidates = document.querySelectorAll("script[src*='widget.js']");
    script = candidates.length ? candidates[candidates.length - 1] : null;
  }

  // Earlier patient messages sent with each question, until /widget-config.json gives the server's window.
  var HISTORY_TURNS = 6;
  var KEPT_ITEMS = 60;
  var SESSION_KEY = "faqbot.session_id";
  var STATE_KEY = "faqbot.conversation";
  var LANG_KEY = "faqbot.lang";
  var VOTABLE = { answer: 1, no_answer: 1, dosing: 1, medical_advice: 1, out_of_scope: 1 };

  /*
   * Every word the widget shows or announces itself, per language. Replies, suggestions and actions come
   * from the server in the language it answered in. Templates: {name} is filled in by t(); in "notice",
   * {strong:...} is bold and {tel:N} a tel: link. Non-ASCII is written as \u escapes so the file reads
   * right whatever charset a clinic's host serves it with.
   * help: shown by the widget itself whenever the assistant cannot be reached, so help never depends on
   * the server.
   */
  var MESSAGES = {
    en: {
      langName: "English",
      langGroup: "Language",
      launcher: "Questions? Chat with us",
      launcherCrisis: "Questions? Chat with us. Help now: call or text 988",
      title: "Patient questions",
      sub: "Answers from our patient FAQ",
      newChat: "New chat",
      newChatTitle: "Start a new conversation (this one is forgotten)",
      close: "Close chat",
      notice: "{strong:Not for emergencies:} call or text {tel:988}, or call {tel:911}.",
      log: "Conversation",
      inputLabel: "Your question",
      placeholder: "Type your question\u2026",
      send: "Send",
      counter: "{length} / {max} characters",
      counterOver: "{length} / {max} characters \u2014 {over} over the limit; please shorten it",
      limitOver: "Your message is over the {max}-character limit.",
      limitNear: "Nearly at the {max}-character limit.",
      welcome: "Hi! I can answer common questions about ketamine treatment at our clinic. " +
        "Ask me anything, or pick a question:",
      you: "You: ",
      assistant: "Assistant: ",
      typing: "typing\u2026",
      typingLabel: "The assistant is typing",
      crisisHeading: "You deserve support right now",
      fallbackHeading: "If you need support right now",
      helpList: "Ways to get help now",
      contactList: "Contact the clinic",
      source: "Source: {question}",
      rateGroup: "Was this answer helpful?",
      rateLead: "Helpful?",
      voteUp: "Helpful",
      voteDown: "Not helpful",
      voteThanks: "Thanks for the feedback.",
      voteFailed: "Couldn't send the feedback, sorry.",
      errorGroup: "Message not answered",
      helpNow: "If you need help now:",
      retry: "Try again",
      errorRate: "You're sending messages quickly. Please wait a moment and try again.",
      errorLong: "That message is a bit long. Please shorten it to {max} characters or fewer.",
      errorRead: "Sorry, I couldn't read that message. Please rephrase it and try again.",
      errorReach: "Sorry, I couldn't reach the assistant just now. Your question is kept: try again in a moment.",
      help: [
        { kind: "call", text: "Call 988", label: "Suicide & Crisis Lifeline, 24/7", href: "tel:988" },
        { kind: "sms", text: "Text 988", label: "Suicide & Crisis Lifeline", href: "sms:988" },
        { kind: "call", text: "Call 911", label: "Emergency services", href: "tel:911" }
      ],
      callClinic: "Call the clinic",
      talkToPerson: "Talk to a person",
      callPhone: "Call {phone}",
      contactElse: "Contact the clinic for anything else.",
      privacy: "Please don't share your name or health details here. {kept} General info, not medical advice.",
      kept: "Messages are kept for {days} days with names and numbers removed.",
      keptFew: "a few",
      notKept: "Your messages are not stored.",
      policy: "Privacy policy"
    },
    es: {
      langName: "Espa\u00f1ol",
      langGroup: "Idioma",
      launcher: "\u00bfPreguntas? Escr\u00edbanos",
      launcherCrisis: "\u00bfPreguntas? Escr\u00edbanos. Ayuda ahora: llame o env\u00ede un texto al 988",
      title: "Preguntas de pacientes",
      sub: "Respuestas de nuestras preguntas frecuentes",
      newChat: "Nuevo chat",
      newChatTitle: "Empezar una conversaci\u00f3n nueva (esta se borra)",
      close: "Cerrar el chat",
      notice: "{strong:No es para emergencias:} llame al {tel:988} y marque 2, o env\u00ede AYUDA por texto " +
        "al 988; o llame al {tel:911}.",
      log: "Conversaci\u00f3n",
      inputLabel: "Su pregunta",
      placeholder: "Escriba su pregunta\u2026",
      send: "Enviar",
      counter: "{length} / {max} caracteres",
      counterOver: "{length} / {max} caracteres \u2014 {over} de m\u00e1s; por favor, ac\u00f3rtelo",
      limitOver: "Su mensaje supera el l\u00edmite de {max} caracteres.",
      limitNear: "Est\u00e1 cerca del l\u00edmite de {max} caracteres.",
      welcome: "\u00a1Hola! Puedo responder preguntas frecuentes sobre el tratamiento con ketamina en nuestra " +
        "cl\u00ednica. Escriba su pregunta o elija una:",
      you: "Usted: ",
      assistant: "Asistente: ",
      typing: "escribiendo\u2026",
      typingLabel: "El asistente est\u00e1 escribiendo",
      crisisHeading: "Usted merece apoyo ahora mismo",
      fallbackHeading: "Si necesita apoyo ahora mismo",
      helpList: "Formas de recibir ayuda ahora",
      contactList: "Comunicarse con la cl\u00ednica",
      source: "Fuente: {question}",
      rateGroup: "\u00bfLe fue \u00fatil esta respuesta?",
      rateLead: "\u00bfLe fue \u00fatil?",
      voteUp: "\u00datil",
      voteDown: "No fue \u00fatil",
      voteThanks: "Gracias por su opini\u00f3n.",
      voteFailed: "No se pudo enviar su opini\u00f3n. Disculpe.",
      errorGroup: "Mensaje sin respuesta",
      helpNow: "Si necesita ayuda ahora:",
      retry: "Intentar de nuevo",
      errorRate: "Est\u00e1 enviando mensajes muy r\u00e1pido. Espere un momento y vuelva a intentarlo.",
      errorLong: "Ese mensaje es un poco largo. Por favor, ac\u00f3rtelo a {max} caracteres o menos.",
      errorRead: "Disculpe, no pude leer ese mensaje. Escr\u00edbalo de otra forma y vuelva a intentarlo.",
      errorReach: "Disculpe, no pude comunicarme con el asistente en este momento. Su pregunta se guard\u00f3: " +
        "vuelva a intentarlo en un momento.",
      help: [
        { kind: "call", text: "Llame al 988 y marque 2",
          label: "L\u00ednea de Prevenci\u00f3n del Suicidio y Crisis, en espa\u00f1ol, 24/7", href: "tel:988" },
        { kind: "sms", text: "Env\u00ede AYUDA por texto al 988",
          label: "L\u00ednea de Prevenci\u00f3n del Suicidio y Crisis", href: "sms:988?&body=AYUDA" },
        { kind: "call", text: "Llame al 911", label: "Servicios de emergencia", href: "tel:911" }
      ],
      callClinic: "Llame a la cl\u00ednica",
      talkToPerson: "Hablar con una persona",
      callPhone: "Llamar al {phone}",
      contactElse: "Para cualquier otra consulta, comun\u00edquese con la cl\u00ednica.",
      privacy: "No comparta aqu\u00ed su nombre ni datos de salud. {kept} Informaci\u00f3n general, no consejo " +
        "m\u00e9dico.",
      kept: "Los mensajes se guardan {days} d\u00edas, sin nombres ni n\u00fameros.",
      keptFew: "unos pocos",
      notKept: "Sus mensajes no se guardan.",
      policy: "Pol\u00edtica de privacidad"
    }
  };
  var LANGS = ["en", "es"];

  function attr(name) {
    return script ? script.getAttribute(name) : null;
  }

  function apiBase() {
    var raw = attr("data-api");
    var fallback = location.origin;
    if (script && script.src) {
      try {
        fallback = new URL(script.src, location.href).origin;
      } catch (e) { /* keep location.origin */ }
    }
    if (!raw) {
      return fallback;
    }
    try {
      var url = new URL(raw, location.href);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        return fallback;
      }
      return (url.origin + url.pathname).replace(/\/+$/, "");
    } catch (e) {
      return fallback;
    }
  }

  /** "es", "es-MX", "ES_419" -> "es"; "en-US" -> "en"; anything else -> null. */
  function langCode(value) {
    var code = String(value || "").trim().toLowerCase().split(/[-_]/)[0];
    return LANGS.indexOf(code) !== -1 ? code : null;
  }

  function storedLang() {
    var storage = store("sessionStorage");
    try {
      return storage ? langCode(storage.getItem(LANG_KEY)) : null;
    } catch (e) {
      return null;
    }
  }

  /**
   * The UI language and whether it was chosen (then it is sent with each message as "lang"): the patient's
   * switch (kept for the tab), else data-lang, else a Spanish <html lang>, else English left unsaid, so the
   * server follows the language the patient writes in.
   */
  function initialLang() {
    var chosen = storedLang() || langCode(attr("data-lang"));
    if (chosen) {
      return { lang: chosen, explicit: true };
    }
    var page = document.documentElement ? langCode(document.documentElement.getAttribute("lang")) : null;
    if (page && page !== "en") {
      return { lang: page, explicit: true };
    }
    return { lang: "en", explicit: false };
  }

  /** A catalogue string in lang, with {name} placeholders filled in. */
  function t(lang, key, params) {
    var table = MESSAGES[lang] || MESSAGES.en;
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : MESSAGES.en[key];
    if (typeof text !== "string") {
      return text;
    }
    return text.replace(/\{([a-z]+)\}/gi, function (match, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : match;
    });
  }

  var API = apiBase();
  var TIMEOUT_MS = Math.min(Math.max(parseFloat(attr("data-timeout")) || 30, 2), 120) * 1000;

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) {
          return;
        }
        if (key === "text") {
          node.textContent = value;
        } else if (key === "className") {
          node.className = value;
        } else {
          node.setAttribute(key, value === true ? "" : String(value));
        }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) {
        return;
      }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function isPlaceholder(value) {
    return typeof value !== "string" || value.indexOf("[SET") !== -1 || !value.trim();
  }

  function store(kind) {
    try {
      return window[kind];
    } catch (e) {
      return null;   // storage blocked (sandboxed frame, privacy settings): work without it
    }
  }

  function randomId() {
    try {
      if (window.crypto && typeof window.crypto.randomUUID === "function") {
        return window.crypto.randomUUID();
      }
      if (window.crypto && typeof window.crypto.getRandomValues === "function") {
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        return Array.prototype.map.call(bytes, function (b) {
          return (b < 16 ? "0" : "") + b.toString(16);
        }).join("");
      }
    } catch (e) { /* fall through */ }
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function sessionId(renew) {
    var storage = store("sessionStorage");
    var id = null;
    try {
      id = renew || !storage ? null : storage.getItem(SESSION_KEY);
    } catch (e) { /* ignore */ }
    if (!id || id.length > 128) {
      id = randomId();
      try {
        if (storage) {
          storage.setItem(SESSION_KEY, id);
        }
      } catch (e) { /* ignore */ }
    }
    return id;
  }

  function safeUrl(value, protocols) {
    if (isPlaceholder(value)) {
      return null;
    }
    try {
      var url = new URL(value, API + "/");
      return protocols.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function phoneDigits(value) {
    return String(value || "").replace(/[^\d+]/g, "");
  }

  /** Lower case without accents, for comparing words: "Env\u00ede" -> "envie". */
  function fold(text) {
    var lower = String(text || "").toLowerCase();
    return typeof lower.normalize === "function" ? lower.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : lower;
  }

  function fmt(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** The href for a crisis/help resource, or null when it should not be shown. */
  function resourceHref(resource) {
    if (!resource || isPlaceholder(resource.value)) {
      return null;
    }
    var kind = resource.kind;
    var number = phoneDigits(resource.value);
    if (kind === "call") {
      return number ? "tel:" + number : null;
    }
    if (kind === "sms") {
      if (!number) {
        return null;
      }
      // "Text HOME to 741741" -> sms:741741?&body=HOME; "Env\u00ede AYUDA por texto al 988" -> sms:988?&body=AYUDA
      var text = String(resource.text || "");
      var match = /\btext\s+([A-Za-z0-9]+)\s+to\s+(\+?[\d\s().-]+)/i.exec(text) ||
        /\b[Ee]nv(?:\u00ed|i)[ae]\s+([A-Z0-9]{2,})\s+(?:por\s+(?:mensaje\s+de\s+)?texto\s+)?al\s+(\+?[\d\s().-]+)/
          .exec(text);
      if (match && phoneDigits(match[2]) === number) {
        return "sms:" + number + "?&body=" + encodeURIComponent(match[1]);
      }
      return "sms:" + number;
    }
    if (kind === "web") {
      return safeUrl(resource.value, /^https:$/);
    }
    return null;
  }

  /** Server-sent action buttons: tel: with digits only, or an https link. */
  function actionHref(action) {
    if (!action || typeof action.href !== "string" || isPlaceholder(action.label)) {
      return null;
    }
    if (action.kind === "call" && /^tel:\+?[\d]{3,15}$/.test(action.href)) {
      return action.href;
    }
    if (action.kind === "link") {
      return safeUrl(action.href, /^https:$/);
    }
    return null;
  }

  // "#17457a" -> [23, 69, 122]
  function parseColor(value) {
    var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
    if (!m) {
      return null;
    }
    var hex = m[1].length === 3 ? m[1].replace(/(.)/g, "$1$1") : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function shade(rgb, factor) {
    return rgb.map(function (v) { return Math.round(v * factor); });
  }

  function css(rgb) {
    return "rgb(" + rgb.join(", ") + ")";
  }

  /** The clinic colour as CSS variables: button text and link colours keep 4.5:1 contrast. */
  function theme(value) {
    var rgb = parseColor(value);
    if (!rgb) {
      return "";
    }
    var white = [255, 255, 255];
    var ink = rgb;
    for (var i = 0; i < 20 && contrast(ink, white) < 4.5; i++) {
      ink = shade(ink, 0.85);
    }
    var onAccent = contrast(rgb, white) >= 4.5 ? "#ffffff" : "#111111";
    return ".w { --accent: " + css(rgb) + "; --accent-hover: " + css(shade(rgb, 0.85)) +
      "; --on-accent: " + onAccent + "; --ink: " + css(ink) + "; }";
  }

  // ---------------------------------------------------------------- styles

  var CSS = [
    ":host { all: initial; }",
    ".w { --accent: #17457a; --accent-hover: #12375f; --on-accent: #ffffff; --ink: #17457a; }",
    ".w, .w * { box-sizing: border-box; }",
    ".w { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;",
    "  font-size: 15px; line-height: 1.45; color: #1f2933; font-weight: 400; font-style: normal;",
    "  letter-spacing: normal; text-align: left; text-transform: none; }",
    ".w button, .w textarea, .w a { font: inherit; }",
    ".w p { margin: 0; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; padding: 12px 18px; border: 0; border-radius: 999px;",
    "  background: var(--accent); color: var(--on-accent); font-weight: 600; font-size: 15px; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(15, 35, 60, 0.28); }",
    ".launcher:hover { background: var(--accent-hover); }",
    ".launcher .dot { width: 10px; height: 10px; border-radius: 50%; background: #7fd1ae; flex: none; }",
    ".w.crisis-state .launcher .dot { background: #f04438; }",
    ".panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483001; width: 380px;",
    "  height: min(640px, calc(100vh - 110px)); display: flex; flex-direction: column; overflow: hidden;",
    "  background: #ffffff; color: #1f2933; border: 1px solid #c9d2dc; border-radius: 14px;",
    "  box-shadow: 0 12px 40px rgba(15, 35, 60, 0.30); }",
    ".w.left .launcher { right: auto; left: 20px; }",
    ".w.left .panel { right: auto; left: 20px; }",
    ".panel[hidden] { display: none; }",
    ".header { display: flex; flex-direction: column; gap: 4px; padding: 10px 8px 8px 16px;",
    "  background: var(--accent); color: var(--on-accent); }",
    ".header .top { display: flex; align-items: flex-start; gap: 6px; }",
    ".header .tools { display: flex; align-items: center; justify-content: space-between; gap: 8px; }",
    ".header .titles { flex: 1; min-width: 0; }",
    ".header h2 { margin: 0; font-size: 16px; font-weight: 700; line-height: 1.3; color: inherit;",
    "  overflow-wrap: anywhere; }",
    ".header .sub { font-size: 12.5px; opacity: 0.88; }",
    ".langs { display: flex; }",
    ".lang { height: 28px; padding: 0 10px; border: 1px solid currentColor; background: transparent; color: inherit;",
    "  font-size: 12.5px; cursor: pointer; }",
    ".lang:first-child { border-radius: 7px 0 0 7px; }",
    ".lang + .lang { border-left: 0; border-radius: 0 7px 7px 0; }",
    ".lang:hover { background: rgba(127, 127, 127, 0.22); }",
    ".lang[aria-pressed='true'] { background: var(--on-accent); color: var(--accent); font-weight: 700; }",
    ".hbtn { flex: none; height: 34px; min-width: 34px; padding: 0 8px; border: 0; border-radius: 8px;",
    "  background: transparent; color: inherit; font-size: 13px; cursor: pointer; }",
    ".hbtn.close { font-size: 22px; line-height: 1; }",
    ".hbtn:hover { background: rgba(127, 127, 127, 0.22); }",
    ".notice { padding: 7px 16px; background: #fff4e5; color: #5c3200; border-bottom: 1px solid #f3d19e;",
    "  font-size: 13.5px; }",
    ".notice strong { font-weight: 700; }",
    ".notice a { color: #8a1c00; font-weight: 700; text-decoration: underline; }",
    ".w.crisis-state .notice { background: #fde8e6; color: #5b0f0a; border-bottom-color: #b42318; }",
    ".log { flex: 1 1 auto; min-height: 0; overflow-y: auto; padding: 14px 14px 6px; background: #f5f7fa;",
    "  display: flex; flex-direction: column; gap: 10px; overscroll-behavior: contain; }",
    ".msg { max-width: 88%; padding: 9px 12px; border-radius: 12px; overflow-wrap: anywhere;",
    "  white-space: normal; }",
    ".msg p + p, .msg p + ul, .msg ul + p { margin-top: 6px; }",
    ".msg ul { margin: 4px 0 0; padding-left: 20px; }",
    ".msg li + li { margin-top: 3px; }",
    ".msg.user { align-self: flex-end; background: var(--accent); color: var(--on-accent);",
    "  border-bottom-right-radius: 4px; white-space: pre-wrap; }",
    ".msg.bot { align-self: flex-start; background: #ffffff; color: #1f2933; border: 1px solid #d5dde6;",
    "  border-bottom-left-radius: 4px; }",
    ".msg.bot a { color: var(--ink); }",
    ".msg.crisis { max-width: 100%; align-self: stretch; background: #fff5f4; color: #3b0d0a;",
    "  border: 2px solid #b42318; border-radius: 12px; }",
    ".msg.crisis h3 { margin: 0 0 4px; font-size: 15.5px; font-weight: 700; color: #912018; }",
    ".msg.error { align-self: stretch; max-width: 100%; background: #fdf2f2; color: #7a1d1d;",
    "  border: 1px dashed #d48a8a; font-size: 14px; }",
    ".source { margin-top: 8px; padding-top: 6px; border-top: 1px solid #e4e9ef; font-size: 12.5px;",
    "  color: #4a5866; }",
    ".btns { list-style: none; margin: 8px 0 2px; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }",
    ".msg .btns { margin: 8px 0 2px; padding: 0; }",
    ".msg .btns li, .msg .btns li + li { margin: 0; }",
    ".btn { display: inline-block; padding: 5px 11px; border-radius: 8px; background: #ffffff;",
    "  border: 1px solid var(--ink); color: var(--ink); text-decoration: none; font-weight: 600;",
    "  font-size: 13.5px; cursor: pointer; }",
    ".msg.bot a.btn, .person a.btn { color: var(--ink); }",
    ".btn:hover { background: #eef3f9; }",
    ".crisis .btns li, .error .btns li { flex: 1 1 auto; }",
    ".crisis .btn, .error .btn { display: block; height: 100%; text-align: center; border-color: #b42318;",
    "  color: #7a1410; line-height: 1.3; }",
    ".msg.crisis a.btn, .msg.error a.btn { color: #7a1410; }",
    ".crisis .btn:hover, .error .btn:hover { background: #fde8e6; }",
    ".retry { margin-top: 8px; padding: 6px 14px; border: 0; border-radius: 8px; background: var(--accent);",
    "  color: var(--on-accent); font-weight: 600; cursor: pointer; }",
    ".retry:disabled { opacity: 0.5; cursor: default; }",
    ".suggestions { display: flex; flex-wrap: wrap; gap: 6px; }",
    ".msg .suggestions { margin-top: 8px; }",
    ".suggestion { padding: 6px 12px; border: 1px solid var(--ink); border-radius: 999px; background: #ffffff;",
    "  color: var(--ink); font-size: 13.5px; cursor: pointer; text-align: left; }",
    ".suggestion:hover { background: #eef3f9; }",
    ".suggestion:disabled { opacity: 0.5; cursor: default; background: #ffffff; }",
    ".rate { display: flex; align-items: center; gap: 4px; margin-top: 6px; font-size: 12.5px; color: #4a5866; }",
    ".vote { display: inline-flex; align-items: center; justify-content: center; width: 30px; height: 28px;",
    "  padding: 0; border: 1px solid #c9d2dc; border-radius: 7px; background: #ffffff; color: #3e4c59;",
    "  cursor: pointer; }",
    ".vote svg { width: 16px; height: 16px; fill: currentColor; }",
    ".vote.down svg { transform: rotate(180deg); }",
    ".vote[aria-pressed='true'] { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }",
    ".vote:disabled { cursor: default; }",
    ".vote:disabled:not([aria-pressed='true']) { opacity: 0.45; }",
    ".typing { align-self: flex-start; padding: 6px 12px; border-radius: 12px; background: #e4e9ef;",
    "  color: #3e4c59; font-size: 13.5px; font-style: italic; }",
    ".person { padding: 6px 14px; border-top: 1px solid #e4e9ef; font-size: 12.5px; color: #3e4c59;",
    "  background: #ffffff; }",
    ".person .btns { margin: 0 0 4px; }",
    ".person .privacy a { color: var(--ink); }",
    ".composer { display: flex; align-items: flex-end; gap: 8px; padding: 8px 12px 4px;",
    "  border-top: 1px solid #e4e9ef; background: #ffffff; }",
    ".composer textarea { flex: 1; min-width: 0; min-height: 44px; max-height: 120px; resize: none;",
    "  padding: 10px 12px; border: 1px solid #8a99a8; border-radius: 10px; background: #ffffff;",
    "  color: #1f2933; font-size: 16px; line-height: 1.35; }",
    ".composer textarea[aria-invalid='true'] { border: 2px solid #b42318; }",
    ".composer textarea::placeholder { color: #66727f; }",
    ".send { flex: none; height: 44px; padding: 0 16px; border: 0; border-radius: 10px; background: var(--accent);",
    "  color: var(--on-accent); font-weight: 600; cursor: pointer; }",
    ".send:hover { background: var(--accent-hover); }",
    ".send:disabled { background: #8a99a8; color: #ffffff; cursor: not-allowed; }",
    ".counter { padding: 0 14px 8px; background: #ffffff; font-size: 12px; color: #52606d; text-align: right; }",
    ".counter.near { color: #8a4b00; }",
    ".counter.over { color: #b42318; font-weight: 700; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;",
    "  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }",
    ".w :focus { outline: none; }",
    ".w :focus-visible { outline: 3px solid #d97706; outline-offset: 2px; }",
    ".composer textarea:focus-visible, .composer textarea:focus { outline: 3px solid #d97706; outline-offset: 1px; }",
    ".header :focus-visible { outline-color: #ffd27a; }",
    "@media (max-width: 479.98px) {",
    "  .panel, .w.left .panel { left: 0; right: auto; top: 0; bottom: auto; width: 100vw; height: 100vh;",
    "    height: 100dvh; border: 0; border-radius: 0; }",
    "  .launcher { right: 12px; bottom: 12px; }",
    "  .header .sub { display: none; }",
    "  .w.left .launcher { left: 12px; }",
    "  .msg { max-width: 92%; }",
    "}",
    "@media (forced-colors: active) { .msg, .btn, .suggestion, .vote { border: 1px solid CanvasText; } }"
  ].join("\n");

  var THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

  function thumbIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", THUMB);
    svg.appendChild(path);
    return svg;
  }

  // https links and North American phone numbers inside reply text become links.
  var LINKABLE = /(https:\/\/[^\s<>"')]*[^\s<>"').,;:!?])|((?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b)/g;

  function linkify(text) {
    var nodes = [];
    var last = 0;
    String(text).replace(LINKABLE, function (match, url, phone, offset) {
      if (offset > last) {
        nodes.push(document.createTextNode(text.slice(last, offset)));
      }
      if (url) {
        nodes.push(el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url }));
      } else {
        nodes.push(el("a", { href: "tel:" + phoneDigits(phone), className: "tel", text: phone }));
      }
      last = offset + match.length;
      return match;
    });
    if (last < text.length) {
      nodes.push(document.createTextNode(text.slice(last)));
    }
    return nodes;
  }

  // ---------------------------------------------------------------- widget

  function Widget() {
    var lang = initialLang();
    this.lang = lang.lang;
    this.langExplicit = lang.explicit;   // then "lang" travels with each message
    this.history = [];
    this.items = [];
    this.crisis = false;
    this.waiting = false;
    this.maxChars = 1000;
    this.historyTurns = HISTORY_TURNS;
    this.config = { clinic_name: "", contact_url: "", phone: "", privacy_url: "", suggestions: { en: [] },
      transcripts: false, retention_days: 0 };
    this.build();
    this.restore();
    this.loadConfig();
  }

  /** A catalogue string in the UI language. */
  Widget.prototype.t = function (key, params) {
    return t(this.lang, key, params);
  };

  Widget.prototype.build = function () {
    var self = this;
    var host = document.createElement("faqbot-widget");
    host.setAttribute("data-faqbot", "");
    this.host = host;
    var root = host.attachShadow({ mode: "open" });
    this.root = root;
    root.appendChild(el("style", { text: CSS + "\n" + theme(attr("data-color")) }));

    var wrap = el("div", { className: "w" + (attr("data-position") === "left" ? " left" : "") });
    this.wrap = wrap;
    root.appendChild(wrap);

    this.launcherText = document.createTextNode("");
    this.launcher = el("button", {
      type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "faqbot-panel",
      "aria-haspopup": "dialog"
    }, [el("span", { className: "dot", "aria-hidden": "true" }), this.launcherText]);
    this.launcher.addEventListener("click", function () {
      if (self.isOpen()) {
        self.close();
      } else {
        self.open();
      }
    });

    this.title = el("h2", { id: "faqbot-title" });
    this.sub = el("p", { className: "sub" });
    // English / Espanol: each button names its language in that language, and says so (lang).
    this.langButtons = {};
    this.langGroup = el("div", { className: "langs", role: "group" });
    LANGS.forEach(function (code) {
      var button = el("button", { type: "button", className: "lang", lang: code, "data-lang": code,
        text: MESSAGES[code].langName });
      button.addEventListener("click", function () { self.setLang(code, true); });
      self.langButtons[code] = button;
      self.langGroup.appendChild(button);
    });
    this.newButton = el("button", { type: "button", className: "hbtn new" });
    this.newButton.addEventListener("click", function () { self.reset(); });
    this.closeButton = el("button", { type: "button", className: "hbtn close" }, ["\u00d7"]);
    this.closeButton.addEventListener("click", function () { self.close(); });
    // Title and close on top; the language switch and "New chat" below, so long titles keep their room.
    var header = el("div", { className: "header" }, [
      el("div", { className: "top" }, [el("div", { className: "titles" }, [this.title, this.sub]), this.closeButton]),
      el("div", { className: "tools" }, [this.langGroup, this.newButton])
    ]);

    this.notice = el("p", { className: "notice", id: "faqbot-notice" });

    this.log = el("div", {
      className: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0"
    });

    this.person = el("div", { className: "person" });

    this.input = el("textarea", {
      id: "faqbot-input", name: "message", rows: "1", autocomplete: "off",
      "aria-describedby": "faqbot-counter faqbot-notice"
    });
    this.sendButton = el("button", { type: "submit", className: "send" });
    this.inputLabel = el("label", { for: "faqbot-input", className: "sr-only" });
    this.form = el("form", { className: "composer", novalidate: true }, [
      this.inputLabel,
      this.input,
      this.sendButton
    ]);
    this.counter = el("p", { className: "counter", id: "faqbot-counter" });
    this.limitStatus = el("p", { className: "sr-only", role: "status" });
    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener("input", function () {
      self.autosize();
      self.updateCounter();
    });

    this.panel = el("div", {
      id: "faqbot-panel", className: "panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "faqbot-title", hidden: true
    }, [header, this.notice, this.log, this.person, this.form, this.counter, this.limitStatus]);

    // Escape closes the chat from anywhere while it is a full-screen modal, and from inside it otherwise.
    document.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && self.isOpen() &&
          (self.modal || event.composedPath().indexOf(host) !== -1)) {
        event.preventDefault();
        self.close();
      }
    }, true);
    this.panel.addEventListener("keydown", function (event) {
      if (event.key === "Tab" && self.modal) {
        self.trapTab(event);
      }
    });
    document.addEventListener("focusin", function () {
      if (self.modal && self.isOpen() && document.activeElement !== host) {
        self.input.focus();   // focus escaped the modal (e.g. a click on the page behind): bring it back
      }
    });

    wrap.appendChild(this.launcher);
    wrap.appendChild(this.panel);
    this.applyLang();
    this.renderWelcome();

    this.phoneQuery = window.matchMedia ? window.matchMedia("(max-width: 479.98px)") : null;
    if (this.phoneQuery) {
      var onChange = function () { self.updateModal(); };
      if (this.phoneQuery.addEventListener) {
        this.phoneQuery.addEventListener("change", onChange);
      } else if (this.phoneQuery.addListener) {
        this.phoneQuery.addListener(onChange);
      }
    }

    document.body.appendChild(host);
  };

  /** "{strong:Not for emergencies:} call {tel:988}" -> text, <strong> and tel: links. */
  function richText(template) {
    var nodes = [];
    var last = 0;
    template.replace(/\{(strong|tel):([^}]*)\}/g, function (match, kind, value, offset) {
      if (offset > last) {
        nodes.push(document.createTextNode(template.slice(last, offset)));
      }
      nodes.push(kind === "strong" ? el("strong", { text: value })
        : el("a", { href: "tel:" + phoneDigits(value), text: value }));
      last = offset + match.length;
      return match;
    });
    if (last < template.length) {
      nodes.push(document.createTextNode(template.slice(last)));
    }
    return nodes;
  }

  /** The words of everything the widget says itself, in the UI language (the conversation is redrawn). */
  Widget.prototype.applyLang = function () {
    var self = this;
    this.wrap.setAttribute("lang", this.lang);
    this.panel.setAttribute("lang", this.lang);
    this.launcherText.nodeValue = this.t("launcher");
    this.setCrisis(this.crisis);
    this.title.textContent = isPlaceholder(this.config.clinic_name) ? this.t("title") : this.config.clinic_name;
    this.sub.textContent = this.t("sub");
    this.langGroup.setAttribute("aria-label", this.t("langGroup"));
    LANGS.forEach(function (code) {
      self.langButtons[code].setAttribute("aria-pressed", code === self.lang ? "true" : "false");
    });
    this.newButton.textContent = this.t("newChat");
    this.newButton.setAttribute("title", this.t("newChatTitle"));
    this.closeButton.setAttribute("aria-label", this.t("close"));
    clear(this.notice);
    richText(this.t("notice")).forEach(function (node) { self.notice.appendChild(node); });
    this.log.setAttribute("aria-label", this.t("log"));
    this.inputLabel.textContent = this.t("inputLabel");
    this.input.setAttribute("placeholder", this.t("placeholder"));
    this.sendButton.textContent = this.t("send");
    if (this.typing) {
      this.typing.setAttribute("aria-label", this.t("typingLabel"));
      this.typing.textContent = this.t("typing");
    }
    this.renderPerson();
    this.counterState = null;
    this.updateCounter();
  };

  /** The patient's switch: the UI changes at once, is kept for the tab, and is sent with each message. */
  Widget.prototype.setLang = function (lang, chosen) {
    lang = langCode(lang) || "en";
    if (chosen) {
      this.langExplicit = true;
      var storage = store("sessionStorage");
      try {
        if (storage) {
          storage.setItem(LANG_KEY, lang);
        }
      } catch (e) { /* blocked: the choice lasts for this page */ }
    }
    if (lang === this.lang) {
      return;
    }
    this.lang = lang;
    this.applyLang();
    this.redraw();
  };

  /** Draw the conversation again (after a language switch): the widget's own words change, replies don't. */
  Widget.prototype.redraw = function () {
    var log = this.log;
    var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    // Keep the message at the top of the view where it was (the words around it change length).
    var anchor = -1;
    var shift = 0;
    for (var i = 0; i < log.children.length; i++) {
      var child = log.children[i];
      if (child.offsetTop - log.offsetTop + child.offsetHeight > log.scrollTop) {
        anchor = i;
        shift = child.offsetTop - log.offsetTop - log.scrollTop;
        break;
      }
    }
    var typing = this.typing;
    clear(log);
    this.renderWelcome();
    this.renderItems();
    if (typing) {
      this.log.appendChild(typing);
    }
    if (this.waiting) {
      this.disableChips();
    }
    if (atEnd || anchor < 0 || !log.children[anchor]) {
      this.scrollToEnd();
    } else {
      log.scrollTop = log.children[anchor].offsetTop - log.offsetTop - shift;
    }
  };

  Widget.prototype.renderWelcome = function () {
    this.welcome = el("div", { className: "msg bot welcome", "data-route": "welcome" }, [
      el("p", { text: this.t("welcome") })
    ]);
    this.log.appendChild(this.welcome);
    this.welcomeSuggestions = el("div", { className: "suggestions welcome-suggestions" });
    this.log.appendChild(this.welcomeSuggestions);
    this.fillWelcomeSuggestions();
  };

  /** The clinic's starter questions (widget-config.json), marked with the language they are written in. */
  Widget.prototype.fillWelcomeSuggestions = function () {
    var box = this.welcomeSuggestions;
    var all = this.config.suggestions;
    var lang = all[this.lang] && all[this.lang].length ? this.lang : "en";
    this.fillSuggestions(box, all[lang]);
    if (lang !== this.lang) {
      box.setAttribute("lang", lang);
    } else {
      box.removeAttribute("lang");
    }
    if (this.items.some(function (item) { return item.type === "user"; })) {
      this.disableChips(box);
    }
  };

  Widget.prototype.isOpen = function () {
    return !this.panel.hidden;
  };

  /** Full screen on phones: a real modal (focus trapped, page behind inert, Escape from anywhere). */
  Widget.prototype.updateModal = function () {
    var modal = this.isOpen() && !!(this.phoneQuery && this.phoneQuery.matches);
    if (modal === !!this.modal) {
      return;
    }
    this.modal = modal;
    this.panel.setAttribute("aria-modal", modal ? "true" : "false");
    var host = this.host;
    if (modal) {
      this.inerted = Array.prototype.filter.call(document.body.children, function (node) {
        return node !== host && !node.inert && node.tagName !== "SCRIPT";
      });
      this.inerted.forEach(function (node) { node.inert = true; });
      this.launcher.setAttribute("tabindex", "-1");
    } else {
      (this.inerted || []).forEach(function (node) { node.inert = false; });
      this.inerted = [];
      this.launcher.removeAttribute("tabindex");
    }
  };

  Widget.prototype.focusables = function () {
    return Array.prototype.filter.call(
      this.panel.querySelectorAll("button, a[href], textarea, [tabindex]:not([tabindex='-1'])"),
      function (node) { return !node.disabled && node.getClientRects().length > 0; });
  };

  Widget.prototype.trapTab = function (event) {
    var nodes = this.focusables();
    if (!nodes.length) {
      return;
    }
    var first = nodes[0];
    var last = nodes[nodes.length - 1];
    var active = this.root.activeElement;
    if (event.shiftKey && (active === first || nodes.indexOf(active) === -1)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || nodes.indexOf(active) === -1)) {
      event.preventDefault();
      first.focus();
    }
  };

  Widget.prototype.open = function () {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.updateModal();
    this.input.focus();
    this.scrollToEnd();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.updateModal();
    this.launcher.focus();
  };

  Widget.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 120) + "px";
  };

  /** The counter never cuts text: past the limit it says by how much, and Send waits. */
  Widget.prototype.updateCounter = function () {
    var length = this.input.value.length;
    var max = this.maxChars;
    var over = length - max;
    var state = over > 0 ? "over" : length >= max * 0.9 ? "near" : "";
    this.counter.className = "counter" + (state ? " " + state : "");
    var numbers = { length: fmt(length), max: fmt(max), over: fmt(over) };
    this.counter.textContent = this.t(over > 0 ? "counterOver" : "counter", numbers);
    this.input.setAttribute("aria-invalid", over > 0 ? "true" : "false");
    this.sendButton.disabled = this.waiting || over > 0;
    if (state !== this.counterState) {
      this.limitStatus.textContent = state === "over" ? this.t("limitOver", numbers)
        : state === "near" ? this.t("limitNear", numbers) : "";
      this.counterState = state;
    }
  };

  Widget.prototype.loadConfig = function () {
    var self = this;
    fetch(API + "/widget-config.json", { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("config " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (data && typeof data === "object") {
          var text = function (key) { return typeof data[key] === "string" ? data[key] : ""; };
          var questions = function (list) {
            return Array.isArray(list) ? list.filter(function (s) {
              return typeof s === "string" && s.trim() && !isPlaceholder(s);
            }).slice(0, 3) : [];
          };
          // "suggestions": the clinic's questions in English; per language, when the server has them, in
          // "suggestions_by_lang": {"en": [...], "es": [...]} (or "suggestions" itself in that shape).
          var suggestions = { en: questions(data.suggestions) };
          [data.suggestions, data.suggestions_by_lang].forEach(function (by) {
            if (by && typeof by === "object" && !Array.isArray(by)) {
              LANGS.forEach(function (code) {
                if (Array.isArray(by[code])) {
                  suggestions[code] = questions(by[code]);
                }
              });
            }
          });
          self.config = {
            clinic_name: text("clinic_name"), contact_url: text("contact_url"), phone: text("phone"),
            privacy_url: text("privacy_url"), suggestions: suggestions,
            transcripts: data.transcripts === true,
            retention_days: typeof data.retention_days === "number" ? data.retention_days : 0
          };
          if (typeof data.max_message_chars === "number" && data.max_message_chars >= 10) {
            self.maxChars = data.max_message_chars;
          }
          if (typeof data.history_turns === "number" && data.history_turns >= 1 && data.history_turns <= 50) {
            self.historyTurns = Math.floor(data.history_turns);
          }
        }
        self.applyConfig();
      })
      .catch(function () {
        self.applyConfig();
      });
  };

  Widget.prototype.applyConfig = function () {
    var name = this.config.clinic_name;
    if (!isPlaceholder(name)) {
      this.title.textContent = name;
    }
    this.renderPerson();
    this.updateCounter();
    this.fillWelcomeSuggestions();
  };

  /** The clinic's phone, when it looks like one. */
  Widget.prototype.clinicPhone = function () {
    var phone = this.config.phone;
    return !isPlaceholder(phone) && phoneDigits(phone).replace(/\D/g, "").length >= 3 ? phone : null;
  };

  Widget.prototype.renderPerson = function () {
    var person = this.person;
    clear(person);
    var buttons = el("ul", { className: "btns contact-buttons", "aria-label": this.t("contactList") });
    var url = safeUrl(this.config.contact_url, /^(https?|mailto|tel):$/);
    if (url) {
      buttons.appendChild(el("li", null, [el("a", {
        href: url, target: "_blank", rel: "noopener noreferrer", className: "btn contact", text: this.t("talkToPerson")
      })]));
    }
    var phone = this.clinicPhone();
    if (phone) {
      buttons.appendChild(el("li", null, [el("a", {
        href: "tel:" + phoneDigits(phone), className: "btn call", text: this.t("callPhone", { phone: phone })
      })]));
    }
    if (buttons.firstChild) {
      person.appendChild(buttons);
    } else {
      person.appendChild(el("p", { className: "contact", text: this.t("contactElse") }));
    }
    var kept = this.config.transcripts
      ? this.t("kept", { days: this.config.retention_days || this.t("keptFew") })
      : this.t("notKept");
    var privacy = el("p", { className: "privacy", id: "faqbot-privacy" }, [this.t("privacy", { kept: kept })]);
    var policy = safeUrl(this.config.privacy_url, /^https?:$/);
    if (policy) {
      privacy.appendChild(document.createTextNode(" "));
      privacy.appendChild(el("a", {
        href: policy, target: "_blank", rel: "noopener noreferrer", className: "policy", text: this.t("policy")
      }));
    }
    person.appendChild(privacy);
  };

  Widget.prototype.fillSuggestions = function (container, list) {
    var self = this;
    clear(container);
    (list || []).forEach(function (question) {
      if (typeof question !== "string" || !question.trim()) {
        return;
      }
      var button = el("button", { type: "button", className: "suggestion", text: question });
      button.addEventListener("click", function () {
        if (!self.waiting && !button.disabled) {
          self.send(question);
        }
      });
      container.appendChild(button);
    });
    container.hidden = !container.firstChild;
  };

  /** Chips from earlier replies stop working once the conversation moves on. */
  Widget.prototype.disableChips = function (scope) {
    Array.prototype.forEach.call((scope || this.log).querySelectorAll(".suggestion"), function (button) {
      button.disabled = true;
    });
  };

  Widget.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  /** Scroll so a new bot message is readable from its first line. */
  Widget.prototype.reveal = function (node) {
    var log = this.log;
    if (node.offsetHeight > log.clientHeight - 20) {
      log.scrollTop = node.offsetTop - log.offsetTop - 8;
    } else {
      this.scrollToEnd();
    }
  };

  /** Reply text -> paragraphs; lines starting with "- " become a list; links made. DOM APIs only. */
  Widget.prototype.textBlocks = function (lines) {
    var nodes = [];
    var list = null;
    lines.forEach(function (line) {
      var trimmed = line.trim();
      if (!trimmed) {
        list = null;
        return;
      }
      var item = /^[-*\u2022]\s+(.*)$/.exec(trimmed);
      if (item) {
        if (!list) {
          list = el("ul");
          nodes.push(list);
        }
        list.appendChild(el("li", null, linkify(item[1])));
      } else {
        list = null;
        nodes.push(el("p", null, linkify(trimmed)));
      }
    });
    return nodes;
  };

  function lines(text) {
    return String(text || "").replace(/\r\n?/g, "\n").split("\n");
  }

  /** The patient's message, marked with the UI language it was written under. */
  Widget.prototype.addUser = function (text, lang) {
    lang = langCode(lang) || this.lang;
    var node = el("div", { className: "msg user", "data-route": "user", lang: lang }, [
      el("span", { className: "sr-only", text: t(lang, "you") }),
      document.createTextNode(text)
    ]);
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  /** Tappable buttons for help resources: [{text, label, href, kind}] or the API's resources. */
  Widget.prototype.buttonList = function (entries, label) {
    var list = el("ul", { className: "btns resources", "aria-label": label });
    entries.forEach(function (entry) {
      var link = el("a", { href: entry.href, className: "btn", "data-kind": entry.kind, "data-id": entry.id || null,
        text: entry.text });
      if (entry.label && entry.label !== entry.text) {
        link.setAttribute("aria-label", entry.text + ", " + entry.label);
      }
      if (/^https:/.test(entry.href)) {
        link.setAttribute("target", "_blank");
        link.setAttribute("rel", "noopener noreferrer");
      }
      list.appendChild(el("li", null, [link]));
    });
    return list.firstChild ? list : null;
  };

  function resourceButtons(resources) {
    var out = [];
    (Array.isArray(resources) ? resources : []).forEach(function (resource) {
      var href = resourceHref(resource);
      var text = !isPlaceholder(resource && resource.text) ? resource.text : resource && resource.label;
      if (href && !isPlaceholder(text)) {
        out.push({ href: href, text: text, label: isPlaceholder(resource.label) ? "" : resource.label,
          kind: resource.kind, id: resource.id, value: String(resource.value) });
      }
    });
    return out;
  }

  /** A reply line is covered when a button says the same thing (same number or link, same verb). */
  function covered(line, buttons) {
    if (line.indexOf("[SET") !== -1) {
      return true;
    }
    var item = /^\s*[-*\u2022]\s+/.test(line);
    var lower = fold(line);
    return item && buttons.some(function (b) {
      var verb = fold(b.text.split(/\s+/)[0]).replace(/[^a-z]/g, "");
      return lower.indexOf(b.value.toLowerCase()) !== -1 && new RegExp("\\b" + verb + "\\b").test(lower);
    });
  }

  /**
   * A reply. When the server said which language it is in, the element says so too (screen readers), and
   * the widget's own words inside it (heading, labels, thumbs) are in that language; else the UI's.
   */
  Widget.prototype.addBot = function (data, item) {
    var self = this;
    var route = data.route;
    var crisis = route === "crisis" || route === "fallback";
    var lang = langCode(data.lang);
    var say = function (key, params) { return t(lang || self.lang, key, params); };
    var node = el("div", { className: "msg bot" + (crisis ? " crisis" : ""), "data-route": route, lang: lang });
    var buttons = resourceButtons(data.resources);
    var text = lines(data.reply);
    if (crisis) {
      // One compact card: heading, the first line, the help buttons, then only what no button says.
      var headingId = "faqbot-h-" + (item ? item.id : randomId());
      node.setAttribute("role", "group");
      node.setAttribute("aria-labelledby", headingId);
      node.appendChild(el("h3", {
        id: headingId,
        text: say(route === "crisis" ? "crisisHeading" : "fallbackHeading")
      }));
      var rest = text.filter(function (line) { return line.trim() && !covered(line, buttons); });
      var first = rest.length && !/^\s*[-*\u2022]\s+/.test(rest[0]) ? rest.shift() : null;
      if (first) {
        this.textBlocks([first]).forEach(function (child) { node.appendChild(child); });
      }
      var list = this.buttonList(buttons, say("helpList"));
      if (list) {
        node.appendChild(list);
      }
      this.textBlocks(rest).forEach(function (child) { node.appendChild(child); });
    } else {
      node.appendChild(el("span", { className: "sr-only", text: say("assistant") }));
      this.textBlocks(text).forEach(function (child) { node.appendChild(child); });
      var help = this.buttonList(buttons, say("helpList"));
      if (help) {
        node.appendChild(help);
      }
    }
    var actions = [];
    (Array.isArray(data.actions) ? data.actions : []).forEach(function (action) {
      var href = actionHref(action);
      if (href) {
        actions.push({ href: href, text: action.label, kind: action.kind });
      }
    });
    var actionList = this.buttonList(actions, say("contactList"));
    if (actionList) {
      actionList.className = "btns actions";
      node.appendChild(actionList);
    }
    if (route === "answer" && Array.isArray(data.sources) && data.sources.length &&
        data.sources[0] && typeof data.sources[0].question === "string" && data.sources[0].question) {
      node.appendChild(el("p", { className: "source", text: say("source", { question: data.sources[0].question }) }));
    }
    if (Array.isArray(data.suggestions) && data.suggestions.length) {
      var box = el("div", { className: "suggestions" });
      this.fillSuggestions(box, data.suggestions.filter(function (s) {
        return typeof s === "string" && !isPlaceholder(s);
      }).slice(0, 4));
      node.appendChild(box);
    }
    if (item && VOTABLE[route]) {
      node.appendChild(this.rating(item, lang || this.lang));
    }
    this.log.appendChild(node);
    if (crisis) {
      this.setCrisis(true);
    }
    if (!self.restoring) {
      this.reveal(node);
    }
    return node;
  };

  /** Thumbs up/down under an answer; one vote, sent to /api/feedback. */
  Widget.prototype.rating = function (item, lang) {
    var self = this;
    var box = el("div", { className: "rate", role: "group", "aria-label": t(lang, "rateGroup") }, [
      el("span", { text: t(lang, "rateLead") })
    ]);
    var note = el("span", { className: "rate-note", role: "status" });
    var make = function (vote, label) {
      var button = el("button", { type: "button", className: "vote " + vote, "aria-label": label,
        "aria-pressed": item.vote === vote ? "true" : "false" }, [thumbIcon()]);
      button.disabled = !!item.vote;
      button.addEventListener("click", function () {
        if (item.vote) {
          return;
        }
        item.vote = vote;
        button.setAttribute("aria-pressed", "true");
        Array.prototype.forEach.call(box.querySelectorAll(".vote"), function (b) { b.disabled = true; });
        note.textContent = t(lang, "voteThanks");
        self.save();
        self.sendVote(item, vote, note, lang);
      });
      return button;
    };
    box.appendChild(make("up", t(lang, "voteUp")));
    box.appendChild(make("down", t(lang, "voteDown")));
    box.appendChild(note);
    if (item.vote) {
      note.textContent = t(lang, "voteThanks");
    }
    return box;
  };

  Widget.prototype.sendVote = function (item, vote, note, lang) {
    var data = item.data || {};
    var body = { vote: vote, route: data.route, session_id: sessionId() };
    if (Array.isArray(data.sources) && data.sources[0] && typeof data.sources[0].id === "string") {
      body.entry_id = data.sources[0].id;
    }
    if (this.config.transcripts && item.question) {
      body.message = item.question;   // only kept (redacted) where the clinic keeps transcripts
    }
    fetch(API + "/api/feedback", {
      method: "POST", credentials: "omit", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", Accept: "application/json" }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("feedback " + response.status);
      }
    }).catch(function () {
      note.textContent = t(lang, "voteFailed");
    });
  };

  /** After a crisis reply the emergency strip turns red and stays so (also after a reload). */
  Widget.prototype.setCrisis = function (on) {
    this.crisis = on;
    this.wrap.className = this.wrap.className.replace(/\s*crisis-state/g, "") + (on ? " crisis-state" : "");
    if (on) {
      this.launcher.setAttribute("aria-label", this.t("launcherCrisis"));
    } else {
      this.launcher.removeAttribute("aria-label");
    }
  };

  Widget.prototype.addError = function (item) {
    var self = this;
    var node = el("div", { className: "msg bot error", "data-route": "error", role: "group", lang: this.lang,
      "aria-label": this.t("errorGroup") }, [el("p", { text: this.errorText(item.status) })]);
    node.appendChild(el("p", { className: "help-now", text: this.t("helpNow") }));
    var help = this.t("help").slice();
    var phone = this.clinicPhone();
    if (phone) {
      help.push({ kind: "call", text: this.t("callClinic"), label: phone, href: "tel:" + phoneDigits(phone) });
    }
    node.appendChild(this.buttonList(help, this.t("helpList")));
    if (item.retry) {
      var retry = el("button", { type: "button", className: "retry", text: this.t("retry") });
      retry.disabled = !!item.retried;
      retry.addEventListener("click", function () {
        if (self.waiting || retry.disabled) {
          return;
        }
        retry.disabled = true;
        item.retried = true;
        if (self.input.value === item.question) {
          self.input.value = "";
          self.updateCounter();
        }
        self.send(item.question, true);
      });
      node.appendChild(retry);
    }
    this.log.appendChild(node);
    if (!this.restoring) {
      this.reveal(node);
    }
    return node;
  };

  Widget.prototype.setWaiting = function (waiting) {
    this.waiting = waiting;
    this.updateCounter();
    this.log.setAttribute("aria-busy", waiting ? "true" : "false");
    if (waiting) {
      this.typing = el("div", { className: "typing", "aria-label": this.t("typingLabel") }, [this.t("typing")]);
      this.log.appendChild(this.typing);
      this.scrollToEnd();
    } else if (this.typing) {
      if (this.typing.parentNode) {
        this.typing.parentNode.removeChild(this.typing);
      }
      this.typing = null;
    }
  };

  Widget.prototype.submit = function () {
    if (this.waiting) {
      return;
    }
    var text = this.input.value;
    if (!text.trim()) {
      this.input.focus();
      return;
    }
    if (text.length > this.maxChars) {
      this.updateCounter();
      this.limitStatus.textContent = "";
      this.limitStatus.textContent = this.t("limitOver", { max: fmt(this.maxChars) });
      return;
    }
    this.input.value = "";
    this.autosize();
    this.updateCounter();
    this.send(text);
  };

  Widget.prototype.push = function (item) {
    item.id = item.id || randomId().slice(0, 12);
    this.items.push(item);
    if (this.items.length > KEPT_ITEMS) {
      this.items = this.items.slice(-KEPT_ITEMS);
    }
    this.save();
    return item;
  };

  Widget.prototype.send = function (rawText, isRetry) {
    var self = this;
    var text = String(rawText);
    if (!text.trim() || this.waiting || text.length > this.maxChars) {
      return;
    }
    if (!this.isOpen()) {
      this.open();
    }
    this.disableChips();
    if (!isRetry) {
      this.push({ type: "user", text: text, lang: this.lang });
      this.addUser(text, this.lang);
    }
    // history holds (patient, assistant) pairs: the last historyTurns pairs carry that many patient messages
    var request = { message: text, history: this.history.slice(-this.historyTurns * 2), session_id: sessionId() };
    if (this.langExplicit) {
      request.lang = this.lang;   // else the server answers in the language the patient writes in
    }
    var body = JSON.stringify(request);
    this.setWaiting(true);

    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;

    fetch(API + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body,
      credentials: "omit",
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        if (!response.ok) {
          var error = new Error("http " + response.status);
          error.status = response.status;
          throw error;
        }
        return response.json();
      })
      .then(function (data) {
        if (!data || typeof data.route !== "string" || typeof data.reply !== "string") {
          throw new Error("bad reply");
        }
        self.setWaiting(false);
        var reply = { route: data.route, reply: data.reply, sources: data.sources, resources: data.resources,
          suggestions: data.suggestions, actions: data.actions, lang: langCode(data.lang) };
        var item = self.push({ type: "bot", data: reply, question: text });
        self.history.push({ role: "user", content: text });
        self.history.push({ role: "assistant", content: data.reply });
        if (self.history.length > self.historyTurns * 2) {
          self.history = self.history.slice(-self.historyTurns * 2);
        }
        self.addBot(reply, item);
        self.save();
      })
      .catch(function (error) {
        self.setWaiting(false);
        var status = error && error.status;
        var fixable = status === 400 || status === 413 || status === 422;
        var item = self.push({ type: "error", status: status || 0, question: text, retry: !fixable });
        self.addError(item);
        if (!self.input.value) {
          self.input.value = text;   // the question is kept: edit it, or press "Try again"
          self.autosize();
          self.updateCounter();
        }
      })
      .then(function () {
        if (timer) {
          clearTimeout(timer);
        }
        var active = self.root.activeElement;
        if (self.isOpen() && (!active || active === self.sendButton || active === self.input)) {
          self.input.focus();
        }
      });
  };

  Widget.prototype.errorText = function (status) {
    if (status === 429) {
      return this.t("errorRate");
    }
    if (status === 413) {
      return this.t("errorLong", { max: fmt(this.maxChars) });
    }
    if (status === 422 || status === 400) {
      return this.t("errorRead");
    }
    return this.t("errorReach");
  };

  // ---------------------------------------------------------------- this tab's memory

  Widget.prototype.save = function () {
    var storage = store("sessionStorage");
    if (!storage) {
      return;
    }
    try {
      storage.setItem(STATE_KEY, JSON.stringify({ v: 1, items: this.items, history: this.history,
        crisis: this.crisis }));
    } catch (e) { /* full or blocked: the conversation simply isn't kept */ }
  };

  Widget.prototype.restore = function () {
    var storage = store("sessionStorage");
    var state = null;
    try {
      state = storage ? JSON.parse(storage.getItem(STATE_KEY) || "null") : null;
    } catch (e) {
      state = null;
    }
    if (!state || state.v !== 1 || !Array.isArray(state.items)) {
      return;
    }
    this.items = state.items.filter(function (item) { return item && typeof item === "object"; });
    this.history = Array.isArray(state.history) ? state.history.filter(function (turn) {
      return turn && typeof turn.content === "string" && (turn.role === "user" || turn.role === "assistant");
    }) : [];
    this.renderItems();
    this.setCrisis(state.crisis === true || this.crisis);
  };

  /** Draw the kept conversation; only the last reply's suggestion chips still work. */
  Widget.prototype.renderItems = function () {
    var self = this;
    this.restoring = true;
    this.items.forEach(function (item) {
      if (item.type === "user" && typeof item.text === "string") {
        self.addUser(item.text, item.lang);
      } else if (item.type === "bot" && item.data && typeof item.data.reply === "string") {
        self.addBot(item.data, item);
      } else if (item.type === "error" && typeof item.question === "string") {
        self.addError(item);
      }
    });
    var last = this.log.lastElementChild;
    if (this.items.length) {
      this.disableChips();
    }
    if (last && last.classList.contains("bot") && !last.classList.contains("welcome")) {
      Array.prototype.forEach.call(last.querySelectorAll(".suggestion"), function (b) { b.disabled = false; });
    }
    this.restoring = false;
  };

  /** "New conversation": forget this tab's conversation, crisis state and session id. */
  Widget.prototype.reset = function () {
    if (this.waiting) {
      return;
    }
    var storage = store("sessionStorage");
    try {
      if (storage) {
        storage.removeItem(STATE_KEY);
      }
    } catch (e) { /* ignore */ }
    sessionId(true);
    this.items = [];
    this.history = [];
    this.setCrisis(false);
    clear(this.log);
    this.renderWelcome();
    this.input.value = "";
    this.autosize();
    this.updateCounter();
    this.input.focus();
  };

  function start() {
    if (!document.body) {
      return false;
    }
    try {
      window.__faqbotWidget = new Widget();
      if (window.performance && performance.mark) {
        performance.mark("faqbot:ready");   // the launcher is on the page and usable
      }
    } catch (e) {
      window.__faqbotWidget = false;
      if (window.console && console.error) {
        console.error("FAQ widget failed to start", e);
      }
    }
    return true;
  }

  if (!start()) {
    document.addEventListener("DOMContentLoaded", start, { once: true });
  }
})();
