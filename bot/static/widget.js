/*
 * Patient FAQ chat widget for ketamine-therapy clinics.
 *
 * Embed with one tag:
 *   <script src="https://clinic-bot.example/widget.js" data-api="https://clinic-bot.example" defer></script>
 * data-api defaults to the origin this script was loaded from.
 *
 * Self-contained vanilla JS: no libraries, fonts, images or third-party requests. The UI lives in an
 * open Shadow DOM so the host page's styles cannot leak in. Everything that comes from the server or
 * the patient is rendered with textContent / text nodes, never as HTML.
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

  var MAX_CHARS = 1000;
  var HISTORY_TURNS = 10;
  var REQUEST_TIMEOUT_MS = 30000;
  var SESSION_KEY = "faqbot.session_id";
  var ERROR_WAIT = "Please wait a moment and try again.";

  function apiBase() {
    var raw = script && script.getAttribute("data-api");
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

  var API = apiBase();

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

  function isPlaceholder(value) {
    return typeof value !== "string" || value.indexOf("[SET") !== -1 || !value.trim();
  }

  function randomId() {
    try {
      if (window.crypto && typeof window.crypto.randomUUID === "function") {
        return window.crypto.randomUUID();
      }
      if (window.crypto && typeof window.crypto.getRandomValues === "function") {
        var bytes = new Uint8Array(16);
        window.crypto.getRandomValues(bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        var hex = Array.prototype.map.call(bytes, function (b) {
          return (b < 16 ? "0" : "") + b.toString(16);
        }).join("");
        return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" +
          hex.slice(16, 20) + "-" + hex.slice(20);
      }
    } catch (e) { /* fall through */ }
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function sessionId() {
    var id = null;
    try {
      id = window.sessionStorage.getItem(SESSION_KEY);
    } catch (e) { /* storage blocked: a per-page id is fine */ }
    if (!id || id.length > 128) {
      id = randomId();
      try {
        window.sessionStorage.setItem(SESSION_KEY, id);
      } catch (e) { /* ignore */ }
    }
    return id;
  }

  function safeWebUrl(value) {
    try {
      var url = new URL(value);
      return url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function safeContactUrl(value) {
    if (isPlaceholder(value)) {
      return null;
    }
    try {
      var url = new URL(value, API + "/");
      return /^(https?|mailto|tel):$/.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function phoneDigits(value) {
    return String(value || "").replace(/[^\d+]/g, "");
  }

  /** The href for a crisis/help resource, or null when it should not be shown. */
  function resourceHref(resource) {
    if (!resource || isPlaceholder(resource.value)) {
      return null;
    }
    var kind = resource.kind;
    if (kind === "call") {
      var tel = phoneDigits(resource.value);
      return tel ? "tel:" + tel : null;
    }
    if (kind === "sms") {
      var number = phoneDigits(resource.value);
      if (!number) {
        return null;
      }
      // "Text HOME to 741741" -> sms:741741?&body=HOME
      var match = /\btext\s+([A-Za-z0-9]+)\s+to\s+\+?[\d\s().-]+/i.exec(String(resource.text || ""));
      if (match && phoneDigits(match[0].slice(match[0].toLowerCase().lastIndexOf(" to ") + 4)) === number) {
        return "sms:" + number + "?&body=" + encodeURIComponent(match[1]);
      }
      return "sms:" + number;
    }
    if (kind === "web") {
      return safeWebUrl(resource.value);
    }
    return null;
  }

  // ---------------------------------------------------------------- styles

  var CSS = [
    ":host { all: initial; }",
    ".w, .w * { box-sizing: border-box; }",
    ".w { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;",
    "  font-size: 15px; line-height: 1.45; color: #1f2933; font-weight: 400; font-style: normal;",
    "  letter-spacing: normal; text-align: left; text-transform: none; }",
    ".w button, .w textarea, .w a { font: inherit; }",
    ".w p { margin: 0; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; padding: 12px 18px; border: 0; border-radius: 999px;",
    "  background: #17457a; color: #ffffff; font-weight: 600; font-size: 15px; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(15, 35, 60, 0.28); }",
    ".launcher:hover { background: #12375f; }",
    ".launcher .dot { width: 10px; height: 10px; border-radius: 50%; background: #7fd1ae; flex: none; }",
    ".panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483001; width: 380px;",
    "  height: min(620px, calc(100vh - 110px)); display: flex; flex-direction: column; overflow: hidden;",
    "  background: #ffffff; color: #1f2933; border: 1px solid #c9d2dc; border-radius: 14px;",
    "  box-shadow: 0 12px 40px rgba(15, 35, 60, 0.30); }",
    ".panel[hidden] { display: none; }",
    ".header { display: flex; align-items: flex-start; gap: 10px; padding: 12px 12px 12px 16px;",
    "  background: #17457a; color: #ffffff; }",
    ".header .titles { flex: 1; min-width: 0; }",
    ".header h2 { margin: 0; font-size: 16px; font-weight: 700; line-height: 1.3; color: #ffffff;",
    "  overflow-wrap: anywhere; }",
    ".header .sub { font-size: 12.5px; color: #dbe6f3; }",
    ".close { flex: none; width: 34px; height: 34px; border: 0; border-radius: 8px; background: transparent;",
    "  color: #ffffff; font-size: 22px; line-height: 1; cursor: pointer; }",
    ".close:hover { background: rgba(255, 255, 255, 0.16); }",
    ".notice { padding: 8px 16px; background: #fff4e5; color: #5c3200; border-bottom: 1px solid #f3d19e;",
    "  font-size: 13.5px; }",
    ".notice strong { font-weight: 700; }",
    ".notice a { color: #8a1c00; font-weight: 700; text-decoration: underline; }",
    ".log { flex: 1 1 auto; min-height: 0; overflow-y: auto; padding: 14px 14px 6px; background: #f5f7fa;",
    "  display: flex; flex-direction: column; gap: 10px; overscroll-behavior: contain; }",
    ".msg { max-width: 88%; padding: 9px 12px; border-radius: 12px; overflow-wrap: anywhere;",
    "  white-space: normal; }",
    ".msg p + p, .msg p + ul, .msg ul + p { margin-top: 6px; }",
    ".msg ul { margin: 4px 0 0; padding-left: 20px; }",
    ".msg li + li { margin-top: 3px; }",
    ".msg.user { align-self: flex-end; background: #17457a; color: #ffffff; border-bottom-right-radius: 4px;",
    "  white-space: pre-wrap; }",
    ".msg.bot { align-self: flex-start; background: #ffffff; color: #1f2933; border: 1px solid #d5dde6;",
    "  border-bottom-left-radius: 4px; }",
    ".msg.bot a { color: #17457a; }",
    ".msg.crisis { max-width: 100%; align-self: stretch; background: #fff5f4; color: #3b0d0a;",
    "  border: 2px solid #b42318; border-radius: 12px; }",
    ".msg.crisis h3 { margin: 0 0 6px; font-size: 15.5px; font-weight: 700; color: #912018; }",
    ".msg.error { align-self: stretch; max-width: 100%; background: #fdf2f2; color: #7a1d1d;",
    "  border: 1px dashed #d48a8a; font-size: 14px; }",
    ".source { margin-top: 8px; padding-top: 6px; border-top: 1px solid #e4e9ef; font-size: 12.5px;",
    "  color: #4a5866; }",
    ".msg .resources { list-style: none; margin: 10px 0; padding: 0; display: flex; flex-direction: column;",
    "  gap: 6px; }",
    ".msg .resources li { margin: 0; }",
    ".msg .resources:last-child { margin-bottom: 0; }",
    ".msg .resources a { display: block; padding: 6px 11px; border-radius: 8px; background: #ffffff;",
    "  border: 1px solid #b42318; color: #7a1410; text-decoration: none; font-weight: 600; }",
    ".msg .resources a:hover { background: #fde8e6; }",
    ".msg .resources .label { display: block; font-weight: 400; font-size: 12.5px; color: #5b2b27; }",
    ".msg.bot:not(.crisis) .resources a { border-color: #9fb3c8; color: #17457a; }",
    ".msg.bot:not(.crisis) .resources .label { color: #4a5866; }",
    ".suggestions { display: flex; flex-wrap: wrap; gap: 6px; }",
    ".msg .suggestions { margin-top: 8px; }",
    ".suggestion { padding: 6px 12px; border: 1px solid #17457a; border-radius: 999px; background: #ffffff;",
    "  color: #17457a; font-size: 13.5px; cursor: pointer; text-align: left; }",
    ".suggestion:hover { background: #e8f0f9; }",
    ".suggestion:disabled { opacity: 0.55; cursor: default; }",
    ".typing { align-self: flex-start; padding: 6px 12px; border-radius: 12px; background: #e4e9ef;",
    "  color: #3e4c59; font-size: 13.5px; font-style: italic; }",
    ".person { padding: 7px 16px; border-top: 1px solid #e4e9ef; font-size: 13.5px; color: #3e4c59;",
    "  background: #ffffff; }",
    ".person a { color: #17457a; font-weight: 600; }",
    ".composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px 12px;",
    "  border-top: 1px solid #e4e9ef; background: #ffffff; }",
    ".composer textarea { flex: 1; min-width: 0; min-height: 44px; max-height: 120px; resize: none;",
    "  padding: 10px 12px; border: 1px solid #8a99a8; border-radius: 10px; background: #ffffff;",
    "  color: #1f2933; font-size: 16px; line-height: 1.35; }",
    ".composer textarea::placeholder { color: #66727f; }",
    ".send { flex: none; height: 44px; padding: 0 16px; border: 0; border-radius: 10px; background: #17457a;",
    "  color: #ffffff; font-weight: 600; cursor: pointer; }",
    ".send:hover { background: #12375f; }",
    ".send:disabled { background: #8a99a8; cursor: not-allowed; }",
    ".person .fineprint { font-size: 12px; color: #52606d; }",
    ".person .fineprint::before { content: \"\\00b7\"; padding: 0 6px; }",
    ".sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;",
    "  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }",
    ".w :focus { outline: none; }",
    ".w :focus-visible { outline: 3px solid #d97706; outline-offset: 2px; }",
    ".composer textarea:focus-visible, .composer textarea:focus { outline: 3px solid #d97706; outline-offset: 1px; }",
    ".header :focus-visible { outline-color: #ffd27a; }",
    "@media (max-width: 479.98px) {",
    "  .panel { left: 0; right: auto; top: 0; bottom: auto; width: 100vw; height: 100vh; height: 100dvh;",
    "    border: 0; border-radius: 0; }",
    "  .launcher { right: 12px; bottom: 12px; }",
    "  .msg { max-width: 92%; }",
    "}",
    "@media (forced-colors: active) { .msg, .resources a, .suggestion { border: 1px solid CanvasText; } }"
  ].join("\n");

  // ---------------------------------------------------------------- widget

  function Widget() {
    this.history = [];
    this.waiting = false;
    this.config = { clinic_name: "", contact_url: "", phone: "", suggestions: [] };
    this.build();
    this.loadConfig();
  }

  Widget.prototype.build = function () {
    var self = this;
    var host = document.createElement("faqbot-widget");
    host.setAttribute("data-faqbot", "");
    this.host = host;
    var root = host.attachShadow({ mode: "open" });
    this.root = root;
    root.appendChild(el("style", { text: CSS }));

    var wrap = el("div", { className: "w" });
    root.appendChild(wrap);

    this.launcher = el("button", {
      type: "button", className: "launcher", "aria-expanded": "false", "aria-controls": "faqbot-panel",
      "aria-haspopup": "dialog"
    }, [el("span", { className: "dot", "aria-hidden": "true" }), "Questions? Chat with us"]);
    this.launcher.addEventListener("click", function () {
      if (self.isOpen()) {
        self.close();
      } else {
        self.open();
      }
    });

    this.title = el("h2", { id: "faqbot-title", text: "Patient questions" });
    this.closeButton = el("button", { type: "button", className: "close", "aria-label": "Close chat" }, ["\u00d7"]);
    this.closeButton.addEventListener("click", function () { self.close(); });
    var header = el("div", { className: "header" }, [
      el("div", { className: "titles" }, [
        this.title,
        el("p", { className: "sub", text: "Answers from our patient FAQ" })
      ]),
      this.closeButton
    ]);

    var notice = el("p", { className: "notice", id: "faqbot-notice" }, [
      el("strong", { text: "Not for emergencies:" }), " call or text ",
      el("a", { href: "tel:988", text: "988" }), ", or call ",
      el("a", { href: "tel:911", text: "911" }), "."
    ]);

    this.log = el("div", {
      className: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Conversation", tabindex: "0"
    });

    this.person = el("p", { className: "person" });
    this.renderPerson();

    this.input = el("textarea", {
      id: "faqbot-input", name: "message", rows: "1", maxlength: String(MAX_CHARS),
      placeholder: "Type your question\u2026", autocomplete: "off", "aria-describedby": "faqbot-notice"
    });
    this.sendButton = el("button", { type: "submit", className: "send", text: "Send" });
    this.form = el("form", { className: "composer", novalidate: true }, [
      el("label", { for: "faqbot-input", className: "sr-only", text: "Your question" }),
      this.input,
      this.sendButton
    ]);
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
    this.input.addEventListener("input", function () { self.autosize(); });

    this.panel = el("div", {
      id: "faqbot-panel", className: "panel", role: "dialog", "aria-modal": "false",
      "aria-label": "Chat with the clinic's FAQ assistant", hidden: true
    }, [
      header, notice, this.log, this.person, this.form
    ]);
    wrap.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && self.isOpen()) {
        event.preventDefault();
        self.close();
      }
    });

    wrap.appendChild(this.launcher);
    wrap.appendChild(this.panel);

    this.welcome = el("div", { className: "msg bot welcome", "data-route": "welcome" }, [
      el("p", { text: "Hi! I can answer common questions about ketamine treatment at our clinic. " +
        "Ask me anything, or pick a question:" })
    ]);
    this.log.appendChild(this.welcome);
    this.welcomeSuggestions = el("div", { className: "suggestions welcome-suggestions" });
    this.log.appendChild(this.welcomeSuggestions);

    document.body.appendChild(host);
  };

  Widget.prototype.isOpen = function () {
    return !this.panel.hidden;
  };

  Widget.prototype.open = function () {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.input.focus();
    this.scrollToEnd();
  };

  Widget.prototype.close = function () {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  };

  Widget.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 120) + "px";
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
          self.config = {
            clinic_name: typeof data.clinic_name === "string" ? data.clinic_name : "",
            contact_url: typeof data.contact_url === "string" ? data.contact_url : "",
            phone: typeof data.phone === "string" ? data.phone : "",
            suggestions: Array.isArray(data.suggestions) ? data.suggestions.filter(function (s) {
              return typeof s === "string" && s.trim() && !isPlaceholder(s);
            }).slice(0, 3) : []
          };
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
      this.panel.setAttribute("aria-label", "Chat with " + name);
    }
    this.renderPerson();
    this.fillSuggestions(this.welcomeSuggestions, this.config.suggestions);
  };

  Widget.prototype.renderPerson = function () {
    var person = this.person;
    while (person.firstChild) {
      person.removeChild(person.firstChild);
    }
    var url = safeContactUrl(this.config.contact_url);
    if (url) {
      person.appendChild(el("a", {
        href: url, target: "_blank", rel: "noopener noreferrer", className: "contact", text: "Talk to a person"
      }));
    } else {
      person.appendChild(el("span", { className: "contact", text: "Contact the clinic" }));
    }
    var phone = this.config.phone;
    if (!isPlaceholder(phone) && phoneDigits(phone).replace(/\D/g, "").length >= 3) {
      person.appendChild(document.createTextNode(" \u00b7 "));
      person.appendChild(el("a", { href: "tel:" + phoneDigits(phone), text: phone }));
    }
    person.appendChild(el("span", { className: "fineprint", text: "General info, not medical advice." }));
  };

  Widget.prototype.fillSuggestions = function (container, list) {
    var self = this;
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    (list || []).forEach(function (question) {
      if (typeof question !== "string" || !question.trim()) {
        return;
      }
      var button = el("button", { type: "button", className: "suggestion", text: question });
      button.addEventListener("click", function () {
        if (self.waiting) {
          return;
        }
        self.send(question);
      });
      container.appendChild(button);
    });
    container.hidden = !container.firstChild;
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

  /** Reply text -> paragraphs; lines starting with "- " become a list. DOM APIs only. */
  Widget.prototype.textBlocks = function (text) {
    var nodes = [];
    var list = null;
    String(text || "").replace(/\r\n?/g, "\n").split("\n").forEach(function (line) {
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
        list.appendChild(el("li", { text: item[1] }));
      } else {
        list = null;
        nodes.push(el("p", { text: trimmed }));
      }
    });
    return nodes;
  };

  Widget.prototype.addUser = function (text) {
    var node = el("div", { className: "msg user", "data-route": "user" }, [
      el("span", { className: "sr-only", text: "You: " }),
      document.createTextNode(text)
    ]);
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  Widget.prototype.resourceList = function (resources) {
    var list = el("ul", { className: "resources", "aria-label": "Ways to get help now" });
    (resources || []).forEach(function (resource) {
      var href = resourceHref(resource);
      if (!href) {
        return;
      }
      var text = !isPlaceholder(resource.text) ? resource.text : resource.label;
      if (isPlaceholder(text)) {
        return;
      }
      var link = el("a", { href: href, "data-kind": resource.kind, "data-id": resource.id || null }, [
        el("span", { className: "text", text: text })
      ]);
      if (!isPlaceholder(resource.label) && resource.label !== text) {
        link.appendChild(el("span", { className: "label", text: resource.label }));
      }
      if (resource.kind === "web") {
        link.setAttribute("target", "_blank");
        link.setAttribute("rel", "noopener noreferrer");
      }
      list.appendChild(el("li", null, [link]));
    });
    return list.firstChild ? list : null;
  };

  Widget.prototype.addBot = function (data) {
    var route = data.route;
    var crisis = route === "crisis" || route === "fallback";
    var node = el("div", { className: "msg bot" + (crisis ? " crisis" : ""), "data-route": route });
    if (crisis) {
      node.setAttribute("role", "group");
      node.appendChild(el("h3", {
        text: route === "crisis" ? "You deserve support right now" : "If you need support right now"
      }));
    } else {
      node.appendChild(el("span", { className: "sr-only", text: "Assistant: " }));
    }
    var blocks = this.textBlocks(data.reply);
    var resources = Array.isArray(data.resources) ? this.resourceList(data.resources) : null;
    if (crisis && resources && blocks.length > 1) {
      // Crisis: the tappable ways to get help come right after the first line, not below the fold.
      node.appendChild(blocks.shift());
      node.appendChild(resources);
      blocks.forEach(function (child) { node.appendChild(child); });
    } else {
      blocks.forEach(function (child) { node.appendChild(child); });
      if (resources) {
        node.appendChild(resources);
      }
    }
    if (route === "answer" && Array.isArray(data.sources) && data.sources.length &&
        data.sources[0] && typeof data.sources[0].question === "string" && data.sources[0].question) {
      node.appendChild(el("p", { className: "source", text: "Source: " + data.sources[0].question }));
    }
    if (Array.isArray(data.suggestions) && data.suggestions.length) {
      var box = el("div", { className: "suggestions" });
      this.fillSuggestions(box, data.suggestions.filter(function (s) {
        return typeof s === "string" && !isPlaceholder(s);
      }).slice(0, 4));
      node.appendChild(box);
    }
    this.log.appendChild(node);
    this.reveal(node);
    return node;
  };

  Widget.prototype.addError = function (text) {
    var node = el("div", { className: "msg bot error", "data-route": "error" }, [el("p", { text: text })]);
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  };

  Widget.prototype.setWaiting = function (waiting) {
    this.waiting = waiting;
    this.sendButton.disabled = waiting;
    this.log.setAttribute("aria-busy", waiting ? "true" : "false");
    if (waiting) {
      this.typing = el("div", { className: "typing", "aria-label": "The assistant is typing" }, ["typing\u2026"]);
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
    this.input.value = "";
    this.autosize();
    this.send(text);
  };

  Widget.prototype.send = function (rawText) {
    var self = this;
    var text = String(rawText).slice(0, MAX_CHARS);
    if (!text.trim() || this.waiting) {
      return;
    }
    if (!this.isOpen()) {
      this.open();
    }
    this.addUser(text);
    var body = JSON.stringify({
      message: text,
      history: this.history.slice(-HISTORY_TURNS),
      session_id: sessionId()
    });
    this.setWaiting(true);

    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;

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
        self.addBot(data);
        self.history.push({ role: "user", content: text });
        self.history.push({ role: "assistant", content: data.reply });
        if (self.history.length > HISTORY_TURNS * 2) {
          self.history = self.history.slice(-HISTORY_TURNS * 2);
        }
      })
      .catch(function (error) {
        self.setWaiting(false);
        self.addError(self.errorText(error && error.status));
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
      return "You're sending messages quickly. " + ERROR_WAIT;
    }
    if (status === 413) {
      return "That message is a bit long. Please shorten it to " + MAX_CHARS + " characters or fewer.";
    }
    if (status === 422 || status === 400) {
      return "Sorry, I couldn't read that message. Please rephrase it and try again.";
    }
    return "Sorry, I couldn't reach the assistant just now. " + ERROR_WAIT;
  };

  function start() {
    if (!document.body) {
      return false;
    }
    try {
      window.__faqbotWidget = new Widget();
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
