// The ntx-graph web page: saved-query gallery, SPARQL editor, results.
// Data is only ever inserted with textContent; no innerHTML anywhere.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { queries: [], prefixes: {}, current: null, savedText: "" };
  const RESULT_FORMATS = [["json", "JSON"], ["csv", "CSV"], ["tsv", "TSV"], ["xml", "XML"]];
  const GRAPH_FORMATS = [["ttl", "Turtle"], ["nt", "N-Triples"], ["jsonld", "JSON-LD"], ["rdf", "RDF/XML"]];
  const FORMAT_PARAM = { json: "json", csv: "csv", tsv: "tsv", xml: "xml", ttl: "turtle", nt: "ntriples",
                         jsonld: "jsonld", rdf: "rdfxml" };
  const KEYWORDS = new Set(("SELECT CONSTRUCT ASK DESCRIBE WHERE PREFIX BASE DISTINCT REDUCED FROM NAMED " +
    "OPTIONAL FILTER UNION MINUS GRAPH SERVICE BIND VALUES AS ORDER BY ASC DESC LIMIT OFFSET GROUP HAVING " +
    "NOT EXISTS IN COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND " +
    "IF COALESCE REGEX CONTAINS STRSTARTS STRENDS LCASE UCASE ISIRI ISURI ISBLANK ISLITERAL A UNDEF TRUE FALSE"
  ).split(" "));
  const TOKEN = /(#[^\n]*)|("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(<[^<>"{}|^`\\\s]*>)|([?$][\w\u00B7\u00C0-\uFFFF]+)|([A-Za-z_][\w-]*(?::[^\s{}()\[\];,]*)?|:[^\s{}()\[\];,]*)/g;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // -- editor highlighting -------------------------------------------------

  function highlight() {
    const text = $("sparql").value;
    const pre = $("highlight");
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(TOKEN)) {
      if (m.index > last) parts.push(document.createTextNode(text.slice(last, m.index)));
      let cls = null;
      if (m[1]) cls = "tok-comment";
      else if (m[2]) cls = "tok-string";
      else if (m[3]) cls = "tok-iri";
      else if (m[4]) cls = "tok-var";
      else if (m[5]) cls = m[5].includes(":") ? "tok-pname" : (KEYWORDS.has(m[5].toUpperCase()) ? "tok-keyword" : null);
      parts.push(cls ? el("span", { class: cls }, m[0]) : document.createTextNode(m[0]));
      last = m.index + m[0].length;
    }
    parts.push(document.createTextNode(text.slice(last) + "\n"));
    pre.replaceChildren(...parts);
    syncScroll();
  }

  function syncScroll() {
    $("highlight").scrollTop = $("sparql").scrollTop;
    $("highlight").scrollLeft = $("sparql").scrollLeft;
  }

  // -- gallery and parameters ----------------------------------------------

  const isGraph = (form) => form === "CONSTRUCT" || form === "DESCRIBE";

  function renderGallery() {
    const needle = $("filter").value.trim().toLowerCase();
    const items = state.queries
      .filter((q) => !needle || (q.name + " " + q.title + " " + q.description).toLowerCase().includes(needle))
      .map((q) => {
        const button = el("button", { type: "button", class: "card", "data-name": q.name,
                                      "aria-pressed": state.current === q ? "true" : "false" },
          el("span", { class: "card-title" }, q.title),
          el("span", { class: "card-meta" }, el("code", {}, q.name), " ", el("span", { class: "badge" }, q.form)));
        button.addEventListener("click", () => select(q));
        return el("li", {}, button);
      });
    $("gallery").replaceChildren(...items);
  }

  function select(q) {
    state.current = q;
    state.savedText = q.text;
    $("sparql").value = q.text;
    $("query-title").textContent = q.title;
    $("query-description").textContent = q.description;
    renderParams(q);
    renderGallery();
    highlight();
    edited();
    $("results").replaceChildren();
    $("downloads").replaceChildren();
    $("status").textContent = "";
    if (location.hash !== "#" + encodeURIComponent(q.name)) history.replaceState(null, "", "#" + encodeURIComponent(q.name));
  }

  function renderParams(q) {
    const fields = q.parameters.map((p) => {
      const id = "param-" + p.name;
      let input;
      if (p.values && p.values.length) {
        input = el("select", { id, name: p.name });
        if (!p.required || p.default === null) input.append(el("option", { value: "" }, p.required ? "— choose —" : "(default)"));
        for (const v of p.values) {
          const selected = p.default !== null && (p.default === v.short || p.default === v.iri);
          input.append(el("option", { value: v.iri, selected }, v.label ? `${v.label} (${v.short})` : v.short));
        }
      } else if (p.type === "boolean") {
        input = el("select", { id, name: p.name }, el("option", { value: "" }, "(default)"),
                   el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
      } else {
        const type = p.type === "integer" || p.type === "decimal" ? "number" : "text";
        input = el("input", { id, name: p.name, type, step: p.type === "integer" ? "1" : (type === "number" ? "any" : null),
                              placeholder: p.default !== null ? p.default : "required", required: p.required });
      }
      const label = el("label", { for: id }, p.name, el("span", { class: "ptype" }, p.type + (p.of_class ? " of " + p.of_class : "")));
      return el("div", { class: "field" }, label, input, p.description ? el("small", {}, p.description) : null);
    });
    $("params").replaceChildren(...fields);
    $("params").hidden = fields.length === 0;
  }

  function paramQuery() {
    const params = new URLSearchParams();
    for (const field of $("params").elements) {
      if (field.name && field.value !== "") params.set(field.name, field.value);
    }
    return params;
  }

  function edited() {
    const changed = state.current !== null && $("sparql").value !== state.savedText;
    $("edited").hidden = !changed || state.current.parameters.length === 0;
    $("params").classList.toggle("disabled", changed);
  }

  // -- running ----------------------------------------------------------------

  function queryForm(text) {
    const body = text.replace(/#[^\n]*/g, "").replace(/"(?:[^"\\\n]|\\.)*"|<[^>\s]*>/g, " ");
    const m = body.match(/\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\b/i);
    return m ? m[1].toUpperCase() : "SELECT";
  }

  function downloads(links) {
    const out = [el("span", { class: "label" }, "Download: ")];
    for (const [label, href] of links) out.push(el("a", { href, class: "download" }, label), " ");
    $("downloads").replaceChildren(...out);
  }

  async function run() {
    const text = $("sparql").value;
    const q = state.current;
    const saved = q !== null && text === state.savedText;
    const graph = isGraph(saved ? q.form : queryForm(text));
    const accept = graph ? "application/n-triples" : "application/sparql-results+json";
    const formats = graph ? GRAPH_FORMATS : RESULT_FORMATS;
    let url;
    let init;
    if (saved) {
      const params = paramQuery().toString();
      const base = "/queries/" + encodeURIComponent(q.name);
      url = base + (params ? "?" + params : "");
      init = { headers: { Accept: accept } };
      downloads(formats.map(([ext, label]) => [label, `${base}.${ext}${params ? "?" + params : ""}`]));
    } else {
      url = "/sparql";
      init = { method: "POST", headers: { Accept: accept, "Content-Type": "application/sparql-query" }, body: text };
      downloads(formats.map(([ext, label]) =>
        [label, "/sparql?" + new URLSearchParams({ query: text, format: FORMAT_PARAM[ext] }).toString()]));
    }
    $("status").textContent = "Running…";
    $("status").className = "status";
    $("run").disabled = true;
    const started = performance.now();
    try {
      const response = await fetch(url, init);
      const body = await response.text();
      const ms = Math.round(performance.now() - started);
      if (!response.ok) {
        $("results").replaceChildren();
        $("downloads").replaceChildren();
        $("status").textContent = `Error ${response.status}: ${body.trim()}`;
        $("status").className = "status error";
        return;
      }
      const count = graph ? renderTriples(parseNTriples(body)) : renderSolutions(JSON.parse(body));
      $("status").textContent = `${count} · ${ms} ms`;
    } catch (error) {
      $("status").textContent = "The request failed: " + error.message;
      $("status").className = "status error";
    } finally {
      $("run").disabled = false;
    }
  }

  // -- results -------------------------------------------------------------------

  function compact(iri) {
    let best = null;
    for (const [prefix, ns] of Object.entries(state.prefixes)) {
      if (prefix && iri.startsWith(ns) && (best === null || ns.length > state.prefixes[best].length)) {
        const local = iri.slice(ns.length);
        if (/^[\w.-]*$/.test(local) && !local.endsWith(".")) best = prefix;
      }
    }
    return best === null ? iri : `${best}:${iri.slice(state.prefixes[best].length)}`;
  }

  function termNode(term) {
    if (!term) return document.createTextNode("");
    if (term.type === "uri") {
      return el("a", { href: "/entity?" + new URLSearchParams({ iri: term.value }).toString(), title: term.value,
                       class: "iri" }, compact(term.value));
    }
    if (term.type === "bnode") return el("span", { class: "bnode" }, "_:" + term.value);
    const lang = term["xml:lang"];
    return el("span", { class: "literal", title: lang ? "@" + lang : (term.datatype ? compact(term.datatype) : null) },
              term.value);
  }

  function table(headers, rows) {
    const head = el("tr", {}, ...headers.map((h) => el("th", { scope: "col" }, h)));
    const body = rows.map((row) => el("tr", {}, ...row.map((term) => el("td", {}, termNode(term)))));
    return el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, ...body));
  }

  function renderSolutions(data) {
    if (typeof data.boolean === "boolean") {
      $("results").replaceChildren(el("p", { class: "boolean " + data.boolean }, data.boolean ? "yes (true)" : "no (false)"));
      return "ASK answered";
    }
    const vars = data.head.vars;
    const rows = data.results.bindings.map((b) => vars.map((v) => b[v]));
    $("results").replaceChildren(table(vars, rows));
    return `${rows.length} row${rows.length === 1 ? "" : "s"}`;
  }

  const NT_TERM = /^(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?)\s*/;

  function unescapeLiteral(text) {
    return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u4, u8, c) =>
      u4 || u8 ? String.fromCodePoint(parseInt(u4 || u8, 16)) : ({ n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" }[c] || c));
  }

  function parseNTriples(text) {
    const triples = [];
    for (let line of text.split("\n")) {
      line = line.trim();
      if (!line || line.startsWith("#")) continue;
      const terms = [];
      while (terms.length < 3) {
        const m = line.match(NT_TERM);
        if (!m) break;
        if (m[1] !== undefined) terms.push({ type: "uri", value: m[1] });
        else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
        else terms.push({ type: "literal", value: unescapeLiteral(m[3]), "xml:lang": m[4], datatype: m[5] });
        line = line.slice(m[0].length);
      }
      if (terms.length === 3) triples.push(terms);
    }
    return triples;
  }

  function renderTriples(triples) {
    $("results").replaceChildren(table(["subject", "predicate", "object"], triples));
    return `${triples.length} triple${triples.length === 1 ? "" : "s"}`;
  }

  // -- start ---------------------------------------------------------------------

  async function start() {
    const editor = $("sparql");
    editor.addEventListener("input", () => { highlight(); edited(); });
    editor.addEventListener("scroll", syncScroll);
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
    });
    $("run").addEventListener("click", run);
    $("filter").addEventListener("input", renderGallery);
    $("params").addEventListener("submit", (event) => { event.preventDefault(); run(); });
    highlight();
    try {
      const [queries, prefixes] = await Promise.all([
        fetch("/queries", { headers: { Accept: "application/json" } }).then((r) => r.json()),
        fetch("/prefixes").then((r) => r.json()),
      ]);
      state.queries = queries;
      state.prefixes = prefixes;
    } catch (error) {
      $("status").textContent = "Could not load the saved queries: " + error.message;
      $("status").className = "status error";
    }
    renderGallery();
    const wanted = decodeURIComponent(location.hash.slice(1));
    const initial = state.queries.find((q) => q.name === wanted);
    if (initial) select(initial);
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
