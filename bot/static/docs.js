/* Renders /openapi.json as a plain reference: paths, request fields, responses and their schemas.
 * Served by the assistant itself (no CDN, no third-party request); everything is written as text. */
(function () {
  "use strict";
  var root = document.getElementById("api");

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function resolve(spec, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 10) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      schema = parts.reduce(function (node, key) { return node && node[key]; }, spec);
    }
    return schema || {};
  }

  function typeName(spec, schema) {
    schema = schema || {};
    if (schema.$ref) { return schema.$ref.split("/").pop(); }
    if (schema.anyOf) {
      return schema.anyOf.map(function (s) { return typeName(spec, s); }).join(" | ");
    }
    if (schema.type === "array") { return "array of " + typeName(spec, schema.items); }
    return schema.type || "any";
  }

  function fieldTable(spec, schema) {
    schema = resolve(spec, schema);
    var props = schema.properties || {};
    var required = schema.required || [];
    var table = el("table");
    var head = el("tr");
    ["field", "type", "required", "description"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(head);
    Object.keys(props).forEach(function (name) {
      var row = el("tr");
      row.appendChild(el("td")).appendChild(el("code", name));
      row.appendChild(el("td", typeName(spec, props[name])));
      row.appendChild(el("td", required.indexOf(name) !== -1 ? "yes" : "no"));
      row.appendChild(el("td", props[name].description || ""));
      table.appendChild(row);
    });
    return table;
  }

  function render(spec) {
    root.textContent = "";
    if (spec.info && spec.info.description) { root.appendChild(el("p", spec.info.description)); }
    Object.keys(spec.paths || {}).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var h = el("h2");
        h.appendChild(el("span", method.toUpperCase(), "method " + method));
        h.appendChild(document.createTextNode(" "));
        h.appendChild(el("code", path));
        root.appendChild(h);
        if (op.summary) { root.appendChild(el("p", op.summary)); }
        if (op.description) { root.appendChild(el("p", op.description, "muted")); }
        var body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
        if (body) {
          root.appendChild(el("h3", "Request body (application/json)"));
          root.appendChild(fieldTable(spec, body.schema));
        }
        root.appendChild(el("h3", "Responses"));
        var table = el("table");
        var head = el("tr");
        ["status", "meaning", "body"].forEach(function (t) { head.appendChild(el("th", t)); });
        table.appendChild(head);
        Object.keys(op.responses || {}).forEach(function (code) {
          var resp = op.responses[code];
          var json = resp.content && resp.content["application/json"];
          var row = el("tr");
          row.appendChild(el("td", code));
          row.appendChild(el("td", resp.description || ""));
          row.appendChild(el("td", json ? typeName(spec, json.schema) : ""));
          table.appendChild(row);
        });
        root.appendChild(table);
      });
    });
    var schemas = (spec.components && spec.components.schemas) || {};
    if (Object.keys(schemas).length) {
      root.appendChild(el("h2", "Schemas"));
      Object.keys(schemas).forEach(function (name) {
        root.appendChild(el("h3", name));
        root.appendChild(fieldTable(spec, schemas[name]));
      });
    }
  }

  fetch("/openapi.json", { credentials: "omit" })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(render)
    .catch(function (e) { root.textContent = "Could not load /openapi.json: " + e.message; });
})();
