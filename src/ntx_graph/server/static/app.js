// The ntx-graph web page: saved-query gallery, SPARQL editor, results.
// Data is only ever inserted with textContent; no innerHTML anywhere.
// The page never analyses SPARQL beyond colouring it: a saved query's kind
// of answer comes from the catalogue (/queries), an ad-hoc answer's from its
// Content-Type, a syntax error's position from the server's message; the
// download formats come from the server's registry (/formats).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { queries: [], prefixes: {}, current: null, savedText: "", offset: 0, size: 25, sort: "",
                  shownHash: null, error: null, showIris: false, paired: false, bound: null };
  // [URL suffix, name for people] of the formats the endpoint answers in, and each suffix's format name
  const RESULT_FORMATS = [];
  const GRAPH_FORMATS = [];
  const FORMAT_PARAM = {};
  const RESERVED = new Set(["query", "sparql", "text", "offset", "size", "sort"]);
  const SIZES = [10, 25, 50, 100];
  const CARDS_PER_PAGE = 20;
  const HISTORY_KEY = "ntx-graph.history";
  const HISTORY_LENGTH = 20;
  const LABELS = new Set(["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel"]);
  const KEYWORDS = new Set(("SELECT CONSTRUCT ASK DESCRIBE WHERE PREFIX BASE DISTINCT REDUCED FROM NAMED " +
    "OPTIONAL FILTER UNION MINUS GRAPH SERVICE BIND VALUES AS ORDER BY ASC DESC LIMIT OFFSET GROUP HAVING " +
    "NOT EXISTS IN COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT SEPARATOR STR LANG LANGMATCHES DATATYPE BOUND " +
    "IF COALESCE REGEX CONTAINS STRSTARTS STRENDS LCASE UCASE ISIRI ISURI ISBLANK ISLITERAL A UNDEF TRUE FALSE"
  ).split(" "));
  // Colouring only: comments, strings, IRIs, variables, names.
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

  // -- editor: colouring and the error marker ---------------------------------

  function highlight() {
    const text = $("sparql").value;
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
    $("highlight").replaceChildren(...parts);
    if (state.error) markError(state.error);
    syncScroll();
  }

  function syncScroll() {
    $("highlight").scrollTop = $("sparql").scrollTop;
    $("highlight").scrollLeft = $("sparql").scrollLeft;
  }

  function offsetOf(text, line, column) {
    let offset = 0;
    for (let i = 1; i < line; i += 1) {
      const next = text.indexOf("\n", offset);
      if (next < 0) return text.length;
      offset = next + 1;
    }
    const end = text.indexOf("\n", offset);
    return Math.min(offset + Math.max(column - 1, 0), end < 0 ? text.length : end);
  }

  // Wrap the character at the error's position in the colouring layer.
  function markError(error) {
    const offset = offsetOf($("sparql").value, error.line, error.column);
    const walker = document.createTreeWalker($("highlight"), NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (offset < seen + node.data.length) {
        const at = node.splitText(offset - seen);
        const rest = at.data.length > 1 && at.data[0] !== "\n" ? at.splitText(1) : null;
        const mark = el("span", { class: "err-mark", id: "error-mark", "data-line": error.line,
                                  "data-column": error.column });
        if (at.data[0] === "\n") { at.before(mark); mark.append("\u200b"); } else { at.before(mark); mark.append(at); }
        if (rest && !rest.data) rest.remove();
        return;
      }
      seen += node.data.length;
    }
  }

  function showError(message) {
    const where = /line (\d+), column (\d+)/.exec(message);
    state.error = where ? { line: Number(where[1]), column: Number(where[2]) } : null;
    $("sparql").setAttribute("aria-invalid", state.error ? "true" : "false");
    highlight();
    const box = $("error");
    if (!state.error) { box.hidden = true; return; }
    const go = el("button", { type: "button", class: "link" }, `Go to line ${state.error.line}, column ${state.error.column}`);
    go.addEventListener("click", () => {
      const editor = $("sparql");
      const at = offsetOf(editor.value, state.error.line, state.error.column);
      editor.focus();
      editor.setSelectionRange(at, at + 1);
    });
    box.replaceChildren(el("span", {}, message.replace(/^SPARQL syntax error /, "Syntax error ")), " ", go);
    box.hidden = false;
  }

  function clearError() {
    if (!state.error && $("error").hidden) return;
    state.error = null;
    $("error").hidden = true;
    $("sparql").setAttribute("aria-invalid", "false");
  }

  // -- gallery and parameters ----------------------------------------------------

  function renderGallery() {
    const needle = $("filter").value.trim().toLowerCase();
    const items = state.queries
      .filter((q) => !needle || (q.name + " " + q.title + " " + q.description).toLowerCase().includes(needle))
      .map((q) => {
        const button = el("button", { type: "button", class: "card", "data-name": q.name,
                                      "aria-pressed": state.current === q ? "true" : "false" },
          el("span", { class: "card-title" }, q.title),
          el("span", { class: "card-meta" }, el("code", {}, q.name), " ", el("span", { class: "badge" }, q.form)));
        button.addEventListener("click", () => { select(q); closeGallery(); $("sparql").focus(); });
        return el("li", {}, button);
      });
    $("gallery").replaceChildren(...items);
  }

  function select(q, values) {
    state.current = q;
    state.savedText = q ? q.text : "";
    if (q) $("sparql").value = q.text;
    $("query-title").textContent = q ? q.title : "SPARQL query";
    $("query-description").textContent = q ? q.description : "Your own query, run as plain SPARQL.";
    renderParams(q, values || {});
    renderGallery();
    clearError();
    highlight();
    $("edited").hidden = true;
    state.offset = 0;
    state.sort = "";
  }

  function renderParams(q, values) {
    const fields = (q ? q.parameters : []).map((p) => {
      const id = "param-" + p.name;
      const given = values[p.name];
      let input;
      if (p.values && p.values.length) {
        input = el("select", { id, name: p.name });
        if (!p.required || p.default === null) input.append(el("option", { value: "" }, p.required ? "— choose —" : "(default)"));
        for (const v of p.values) {
          const selected = given !== undefined ? (given === v.iri || given === v.short)
            : (p.default !== null && (p.default === v.short || p.default === v.iri));
          input.append(el("option", { value: v.iri, selected }, v.label ? `${v.label} (${v.short})` : v.short));
        }
      } else if (p.type === "boolean") {
        input = el("select", { id, name: p.name }, el("option", { value: "" }, "(default)"),
                   el("option", { value: "true", selected: given === "true" }, "true"),
                   el("option", { value: "false", selected: given === "false" }, "false"));
      } else {
        const type = p.type === "integer" || p.type === "decimal" ? "number" : "text";
        input = el("input", { id, name: p.name, type, step: p.type === "integer" ? "1" : (type === "number" ? "any" : null),
                              placeholder: p.default !== null ? p.default : "required", required: p.required,
                              value: given !== undefined ? given : null });
      }
      const label = el("label", { for: id }, p.name, el("span", { class: "ptype" }, p.type + (p.of_class ? " of " + p.of_class : "")));
      return el("div", { class: "field" }, label, input, p.description ? el("small", {}, p.description) : null);
    });
    $("params").replaceChildren(...fields);
    $("params").hidden = fields.length === 0;
  }

  // The parameter values on screen; with `filled`, defaults stand in for empty fields.
  function paramValues(filled) {
    const values = {};
    if (!state.current) return values;
    for (const p of state.current.parameters) {
      const field = $("param-" + p.name);
      const value = field ? field.value : "";
      if (value !== "") values[p.name] = value;
      else if (filled && p.default !== null) values[p.name] = p.default;
    }
    return values;
  }

  const isEdited = () => state.current !== null && $("sparql").value !== state.savedText;

  // Editing a saved query keeps its parameters: the server binds them into
  // the edited text. Dropping them is an explicit choice (detach).
  function edited() {
    $("edited").hidden = !isEdited() || state.current.parameters.length === 0;
  }

  function detach() {
    const text = $("sparql").value;
    select(null);
    $("sparql").value = text;
    highlight();
  }

  // -- the URL: permalinks and history -----------------------------------------

  function currentHash() {
    const params = new URLSearchParams();
    if (state.current) {
      params.set("query", state.current.name);
      if (isEdited()) params.set("text", $("sparql").value);
      for (const [name, value] of Object.entries(paramValues(false))) params.set(name, value);
    } else {
      params.set("sparql", $("sparql").value);
    }
    if (state.offset) params.set("offset", String(state.offset));
    if (state.size !== 25) params.set("size", String(state.size));
    if (state.sort) params.set("sort", state.sort);
    return "#" + params.toString();
  }

  function readHash() {
    const raw = location.hash.slice(1);
    if (!raw) return null;
    if (!raw.includes("=")) return { query: decodeURIComponent(raw), values: {} };  // the older #NAME form
    const params = new URLSearchParams(raw);
    const values = {};
    for (const [key, value] of params) if (!RESERVED.has(key)) values[key] = value;
    return { query: params.get("query"), sparql: params.get("sparql"), text: params.get("text"), values,
             offset: Number(params.get("offset")) || 0, size: Number(params.get("size")) || 25,
             sort: params.get("sort") || "" };
  }

  function applyHash() {
    const wanted = readHash();
    if (location.hash === state.shownHash) return;
    if (!wanted) {  // back to the page as it opened
      if (state.shownHash === null) return;
      state.shownHash = location.hash;
      select(null);
      $("query-title").textContent = "SPARQL query";
      $("sparql").value = state.initialText;
      highlight();
      for (const id of ["results", "pager", "downloads"]) $(id).replaceChildren();
      $("snippets").hidden = true;
      status("");
      return;
    }
    if (wanted.query) {
      const q = state.queries.find((item) => item.name === wanted.query);
      if (!q) { status(`No saved query named “${wanted.query}”.`, true); return; }
      select(q, wanted.values);
      if (wanted.text !== null && wanted.text !== undefined) {
        $("sparql").value = wanted.text;
        highlight();
        edited();
      }
    } else if (wanted.sparql !== null && wanted.sparql !== undefined) {
      select(null);
      $("sparql").value = wanted.sparql;
      highlight();
    } else {
      return;
    }
    state.offset = wanted.offset || 0;
    state.size = SIZES.includes(wanted.size) ? wanted.size : 25;
    state.sort = wanted.sort || "";
    execute(false);
  }

  function remember(hash) {
    const label = state.current ? state.current.title : $("sparql").value.replace(/\s+/g, " ").trim().slice(0, 80);
    let items = [];
    try { items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { items = []; }
    items = [{ hash, label, when: new Date().toISOString() }, ...items.filter((item) => item.hash !== hash)];
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_LENGTH))); } catch (e) { /* private mode */ }
    renderHistory();
  }

  function renderHistory() {
    let items = [];
    try { items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { items = []; }
    $("history").replaceChildren(...items.map((item) => el("li", {},
      el("a", { href: item.hash, title: item.when }, item.label || "(empty query)"))));
    $("history-empty").hidden = items.length > 0;
  }

  // -- running ------------------------------------------------------------------

  function status(message, error) {
    $("status").textContent = message;
    $("status").className = error ? "status error" : "status";
  }

  function run() {
    if (isEdited() && state.current.parameters.length === 0) detach();  // nothing to bind: plain SPARQL
    state.offset = 0;
    execute(true);
  }

  // A syntax error's message with its position in the text on screen (the
  // bound text has one more line), or null if the text on screen parses.
  async function positionInText() {
    const plain = await fetch("/sparql", { method: "POST", headers: { "Content-Type": "application/sparql-query" },
                                            body: $("sparql").value });
    const message = (await plain.text()).trim();
    return plain.status === 400 && /line \d+, column \d+/.test(message) ? `Error 400: ${message}` : null;
  }

  // The edited text with the saved query's parameters bound, from the server.
  async function bindEdited() {
    const params = new URLSearchParams(paramValues(false)).toString();
    const response = await fetch(`/queries/${encodeURIComponent(state.current.name)}.rq${params ? "?" + params : ""}`,
      { method: "POST", headers: { "Content-Type": "application/sparql-query" }, body: $("sparql").value });
    const body = await response.text();
    return response.ok ? { text: body } : { error: `Error ${response.status}: ${body.trim()}` };
  }

  function requestFor(offset, accept) {
    const q = state.current;
    const page = new URLSearchParams();
    if (offset !== null) {
      page.set("_offset", String(offset));
      page.set("_limit", String(state.size));
      if (state.sort) page.set("_sort", state.sort);
    }
    if (q && !state.bound) {
      const params = new URLSearchParams(paramValues(false));
      for (const [k, v] of page) params.set(k, v);
      const text = params.toString();
      return { url: "/queries/" + encodeURIComponent(q.name) + (text ? "?" + text : ""), init: { headers: { Accept: accept } } };
    }
    const text = page.toString();
    return { url: "/sparql" + (text ? "?" + text : ""),
             init: { method: "POST", headers: { Accept: accept, "Content-Type": "application/sparql-query" },
                     body: state.bound || $("sparql").value } };
  }

  function downloads(graph) {
    const q = state.current;
    const formats = graph ? GRAPH_FORMATS : RESULT_FORMATS;
    const out = [el("span", { class: "label" }, "Download: ")];
    for (const [ext, label] of formats) {
      let href;
      if (q && !state.bound) {
        const params = new URLSearchParams(paramValues(false)).toString();
        href = `/queries/${encodeURIComponent(q.name)}.${ext}${params ? "?" + params : ""}`;
      } else {
        href = "/sparql?" + new URLSearchParams({ query: state.bound || $("sparql").value, format: FORMAT_PARAM[ext] }).toString();
      }
      out.push(el("a", { href, class: "download", download: "" }, label), " ");
    }
    $("downloads").replaceChildren(...out);
  }

  async function execute(push) {
    const hash = currentHash();
    if (push && hash !== location.hash) history.pushState(null, "", hash);
    else if (!push && hash !== location.hash) history.replaceState(null, "", hash);
    state.shownHash = location.hash;
    clearError();
    const q = state.current;
    state.bound = null;
    if (isEdited()) {
      const bound = await bindEdited();
      if (bound.error) {
        const message = (await positionInText()) || bound.error;
        status(message, true);
        showError(message);
        document.body.dataset.ran = String(Number(document.body.dataset.ran || 0) + 1);
        return;
      }
      state.bound = bound.text;
    }
    // a saved query's form comes from the catalogue; an edited or ad-hoc one's from the answer
    const graphForm = q && !state.bound ? q.answers === "graph" : null;
    const accept = graphForm === true ? "application/n-triples"
      : graphForm === false ? "application/sparql-results+json"
      : "application/sparql-results+json, application/n-triples;q=0.9";
    const { url, init } = requestFor(graphForm === true ? null : state.offset, accept);
    status("Running…");
    $("run").disabled = true;
    const started = performance.now();
    try {
      const response = await fetch(url, init);
      const body = await response.text();
      const ms = Math.round(performance.now() - started);
      if (!response.ok) {
        $("results").replaceChildren();
        $("downloads").replaceChildren();
        $("pager").replaceChildren();
        let message = `Error ${response.status}: ${body.trim()}`;
        if (state.bound && response.status === 400 && /line \d+, column \d+/.test(message)) {
          message = (await positionInText()) || message;  // where it is in the text on screen, not the bound one
        }
        status(message, true);
        if (response.status === 400) showError(message);
        return;
      }
      const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
      const graph = type === "application/n-triples";
      downloads(graph);
      let count;
      if (graph) {
        state.triples = parseNTriples(body);
        state.cardPage = 0;
        count = renderGraph();
      } else {
        count = renderSolutions(JSON.parse(body), Number(response.headers.get("X-Total-Count")));
      }
      status(`${count} · ${ms} ms`);
      renderSnippets(graph);
      remember(location.hash);
    } catch (error) {
      status("The request failed: " + error.message, true);
    } finally {
      $("run").disabled = false;
      document.body.dataset.ran = String(Number(document.body.dataset.ran || 0) + 1);
    }
  }

  // -- results --------------------------------------------------------------------

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

  const entityHref = (iri) => "/entity?" + new URLSearchParams({ iri }).toString();

  function termNode(term, label) {
    if (!term) return document.createTextNode("");
    if (term.type === "uri") {
      const name = label || compact(term.value);
      const full = !label && name === term.value;
      const colon = label || full ? -1 : name.indexOf(":");
      // a prefixed name may break after its colon, nowhere else but at hyphens; a full IRI anywhere
      const parts = colon > 0 && colon < name.length - 1 ? [name.slice(0, colon + 1), el("wbr"), name.slice(colon + 1)] : [name];
      return el("a", { href: entityHref(term.value), title: term.value, class: full ? "iri full" : "iri" }, ...parts);
    }
    if (term.type === "bnode") return el("span", { class: "bnode" }, "_:" + term.value);
    const lang = term["xml:lang"];
    const long = term.value.length > 60;
    return el("span", { class: long ? "literal long" : "literal",
                        title: lang ? "@" + lang : (term.datatype ? compact(term.datatype) : null) }, term.value);
  }

  function sortHeader(name) {
    const active = state.sort.replace(/^-/, "") === name;
    const descending = active && state.sort.startsWith("-");
    const button = el("button", { type: "button", class: "sort", "data-var": name,
                                  title: `Sort by ${name}` }, name,
                      el("span", { class: "arrow", "aria-hidden": "true" }, active ? (descending ? " ▼" : " ▲") : " ↕"));
    button.addEventListener("click", () => {
      state.sort = !active ? name : (descending ? "" : "-" + name);
      state.offset = 0;
      execute(true);
    });
    return el("th", { scope: "col", "aria-sort": active ? (descending ? "descending" : "ascending") : "none" }, button);
  }

  function renderSolutions(data, total) {
    if (typeof data.boolean === "boolean") {
      $("pager").replaceChildren();
      $("results").replaceChildren(el("p", { class: "boolean " + data.boolean }, data.boolean ? "yes (true)" : "no (false)"));
      return "ASK answered";
    }
    const vars = data.head.vars;
    const rows = data.results.bindings;
    // A variable with a ?xLabel companion is shown through it: the label links to the entity.
    const paired = new Set(vars.filter((v) => vars.includes(v + "Label")));
    const hide = (v) => paired.has(v) && !state.showIris;
    const cell = (b, v) => {
      const base = v.endsWith("Label") ? v.slice(0, -5) : null;
      const term = b[v];
      if (base && paired.has(base) && !state.showIris && term && b[base] && b[base].type === "uri") {
        return el("td", { "data-label": v }, el("a", { href: entityHref(b[base].value), title: b[base].value, class: "iri" }, term.value));
      }
      return el("td", { "data-label": v }, termNode(term));
    };
    const shown = vars.filter((v) => !hide(v));
    const head = el("tr", {}, el("th", { scope: "col", class: "rownum" }, "#"), ...shown.map(sortHeader));
    const body = rows.map((b, i) => el("tr", {}, el("td", { class: "rownum", "data-label": "#" }, String(state.offset + i + 1)),
                                       ...shown.map((v) => cell(b, v))));
    $("results").replaceChildren(el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, ...body)));
    state.paired = paired.size > 0;
    const all = Number.isFinite(total) && total >= 0 ? total : rows.length;
    renderPager(all, rows.length);
    return `${all} row${all === 1 ? "" : "s"}`;
  }

  function renderPager(total, shown) {
    const first = shown ? state.offset + 1 : 0;
    const last = state.offset + shown;
    const prev = el("button", { type: "button", id: "prev", disabled: state.offset === 0 }, "‹ Previous");
    const next = el("button", { type: "button", id: "next", disabled: last >= total }, "Next ›");
    prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.size); execute(true); });
    next.addEventListener("click", () => { state.offset += state.size; execute(true); });
    const size = el("select", { id: "page-size", "aria-label": "Rows per page" },
                    ...SIZES.map((n) => el("option", { value: String(n), selected: n === state.size }, `${n} per page`)));
    size.addEventListener("change", () => { state.size = Number(size.value); state.offset = 0; execute(true); });
    const items = [prev, el("span", { id: "range", class: "range" }, `Rows ${first}–${last} of ${total}`), next, size];
    if (state.paired) {
      const box = el("input", { type: "checkbox", id: "show-iris", checked: state.showIris });
      box.addEventListener("change", () => { state.showIris = box.checked; execute(false); });
      items.push(el("label", { class: "toggle", for: "show-iris" }, box, " IRI columns beside their labels"));
    }
    $("pager").replaceChildren(...items);
  }

  const NT_TERM = /^(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?)\s*/;

  function unescapeLiteral(text) {
    return text.replace(/\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))/g, (_, u4, u8, c) =>
      u4 || u8 ? String.fromCodePoint(parseInt(u4 || u8, 16)) : ({ n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" }[c] || c));
  }

  // N-Triples (the format the page asks graph answers in), one triple a line.
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

  // A graph answer as one card per subject (its properties and values), or as Turtle.
  function renderGraph() {
    const groups = new Map();
    const labels = new Map();
    for (const [s, p, o] of state.triples) {
      const key = (s.type === "bnode" ? "_:" : "") + s.value;
      if (!groups.has(key)) groups.set(key, { subject: s, props: new Map() });
      const props = groups.get(key).props;
      if (!props.has(p.value)) props.set(p.value, []);
      props.get(p.value).push(o);
      if (LABELS.has(p.value) && o.type === "literal" && !labels.has(key)) labels.set(key, o.value);
    }
    // the subjects the answer says most about first (a drug card starts with the drug)
    const size = (g) => [...g.props.values()].reduce((n, objects) => n + objects.length, 0);
    const subjects = [...groups.values()].sort((a, b) => size(b) - size(a));
    const pages = Math.max(1, Math.ceil(subjects.length / CARDS_PER_PAGE));
    state.cardPage = Math.min(state.cardPage || 0, pages - 1);
    const shown = subjects.slice(state.cardPage * CARDS_PER_PAGE, (state.cardPage + 1) * CARDS_PER_PAGE);
    const cards = shown.map(({ subject, props }) => {
      const key = (subject.type === "bnode" ? "_:" : "") + subject.value;
      const rows = [];
      for (const [p, objects] of props) {
        rows.push(el("dt", {}, termNode({ type: "uri", value: p })),
                  el("dd", {}, ...objects.flatMap((o, i) => [i ? el("br") : null, termNode(o, o.type === "uri" ? labels.get(o.value) : null)])));
      }
      return el("article", { class: "entity-card" },
        el("h3", {}, termNode(subject, labels.get(key)), subject.type === "uri" ? el("code", { class: "short" }, " " + compact(subject.value)) : null),
        el("dl", {}, ...rows));
    });
    const view = el("div", { class: "view-switch", role: "group", "aria-label": "Show the answer as" });
    for (const [mode, label] of [["cards", "Entity cards"], ["turtle", "Turtle"]]) {
      const button = el("button", { type: "button", "aria-pressed": mode === "cards" ? "true" : "false", "data-mode": mode }, label);
      button.addEventListener("click", () => (mode === "turtle" ? showTurtle() : renderGraph()));
      view.append(button);
    }
    $("results").replaceChildren(view, el("div", { class: "cards-grid" }, ...cards));
    const prev = el("button", { type: "button", id: "prev", disabled: state.cardPage === 0 }, "‹ Previous");
    const next = el("button", { type: "button", id: "next", disabled: state.cardPage >= pages - 1 }, "Next ›");
    prev.addEventListener("click", () => { state.cardPage -= 1; renderGraph(); });
    next.addEventListener("click", () => { state.cardPage += 1; renderGraph(); });
    const first = subjects.length ? state.cardPage * CARDS_PER_PAGE + 1 : 0;
    $("pager").replaceChildren(prev, el("span", { id: "range", class: "range" },
      `Subjects ${first}–${state.cardPage * CARDS_PER_PAGE + shown.length} of ${subjects.length}`), next);
    return `${state.triples.length} triple${state.triples.length === 1 ? "" : "s"} about ${subjects.length} subject${subjects.length === 1 ? "" : "s"}`;
  }

  async function showTurtle() {
    const { url, init } = requestFor(null, "text/turtle");
    const response = await fetch(url, init);
    const body = await response.text();
    const view = $("results").querySelector(".view-switch");
    for (const b of view.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset.mode === "turtle" ? "true" : "false");
    $("results").replaceChildren(view, el("pre", { class: "turtle", tabindex: "0", "aria-label": "The answer in Turtle" }, body));
    $("pager").replaceChildren();
  }

  // -- snippets: the query on screen from curl and from Python ----------------------

  const shellQuote = (text) => "'" + text.replace(/'/g, "'\\''") + "'";
  const pythonString = (text) => '"""' + text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"') + '"""';

  async function renderSnippets(graph) {
    const origin = location.origin;
    const q = state.current;
    let curl;
    let text = $("sparql").value;
    const ext = graph ? "ttl" : "csv";
    if (state.bound) {
      text = state.bound;
      curl = `curl -H ${shellQuote("Accept: " + (graph ? "text/turtle" : "text/csv"))} ` +
             `--data-urlencode ${shellQuote("query=" + text)} ${shellQuote(origin + "/sparql")}`;
    } else if (q) {
      const params = new URLSearchParams(paramValues(true)).toString();
      curl = `curl ${shellQuote(`${origin}/queries/${encodeURIComponent(q.name)}.${ext}${params ? "?" + params : ""}`)}`;
      const bound = await fetch(`/queries/${encodeURIComponent(q.name)}.rq${params ? "?" + params : ""}`);
      if (bound.ok) text = await bound.text();
    } else {
      curl = `curl -H ${shellQuote("Accept: " + (graph ? "text/turtle" : "text/csv"))} ` +
             `--data-urlencode ${shellQuote("query=" + text)} ${shellQuote(origin + "/sparql")}`;
    }
    const python = graph
      ? `from SPARQLWrapper import SPARQLWrapper, TURTLE\n\nsparql = SPARQLWrapper(${JSON.stringify(origin + "/sparql")})\n` +
        `sparql.setQuery(${pythonString(text)})\nsparql.setReturnFormat(TURTLE)\n` +
        "print(sparql.query().response.read().decode())\n"
      : `from SPARQLWrapper import SPARQLWrapper, JSON\n\nsparql = SPARQLWrapper(${JSON.stringify(origin + "/sparql")})\n` +
        `sparql.setQuery(${pythonString(text)})\nsparql.setReturnFormat(JSON)\n` +
        "for row in sparql.queryAndConvert()[\"results\"][\"bindings\"]:\n" +
        "    print({name: term[\"value\"] for name, term in row.items()})\n";
    $("snippet-curl").textContent = curl;
    $("snippet-python").textContent = python;
    $("snippets").hidden = false;
  }

  function copyButtons() {
    for (const button of document.querySelectorAll("button.copy")) {
      button.addEventListener("click", async () => {
        const text = $(button.dataset.target).textContent;
        try { await navigator.clipboard.writeText(text); button.textContent = "Copied"; } catch (e) { button.textContent = "Select and copy"; }
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      });
    }
  }

  // -- layout: the gallery as a drawer on narrow screens ------------------------------

  function closeGallery() {
    $("sidebar").classList.remove("open");
    $("gallery-toggle").setAttribute("aria-expanded", "false");
  }

  // -- start ----------------------------------------------------------------------------

  async function start() {
    const editor = $("sparql");
    editor.addEventListener("input", () => { clearError(); highlight(); edited(); });
    editor.addEventListener("scroll", syncScroll);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
      if (event.key === "Escape" && $("sidebar").classList.contains("open")) closeGallery();
    });
    $("run").addEventListener("click", run);
    $("filter").addEventListener("input", renderGallery);
    $("params").addEventListener("submit", (event) => { event.preventDefault(); run(); });
    $("detach").addEventListener("click", () => { detach(); state.offset = 0; execute(true); });
    $("restore").addEventListener("click", () => { $("sparql").value = state.savedText; highlight(); edited(); $("sparql").focus(); });
    $("gallery-toggle").addEventListener("click", () => {
      const open = $("sidebar").classList.toggle("open");
      $("gallery-toggle").setAttribute("aria-expanded", String(open));
      if (open) $("filter").focus();
    });
    state.initialText = editor.value;
    window.addEventListener("popstate", applyHash);
    window.addEventListener("hashchange", applyHash);
    copyButtons();
    highlight();
    renderHistory();
    try {
      const [queries, prefixes, registry] = await Promise.all([
        fetch("/queries", { headers: { Accept: "application/json" } }).then((r) => r.json()),
        fetch("/prefixes").then((r) => r.json()),
        fetch("/formats").then((r) => r.json()),
      ]);
      state.queries = queries;
      state.prefixes = prefixes;
      for (const f of registry.filter((f) => f.http)) {
        if (f.uses.includes("results")) RESULT_FORMATS.push([f.suffixes[0], f.short]);
        if (f.uses.includes("graph")) GRAPH_FORMATS.push([f.suffixes[0], f.short]);
        FORMAT_PARAM[f.suffixes[0]] = f.name;
      }
    } catch (error) {
      status("Could not load the saved queries: " + error.message, true);
    }
    renderGallery();
    applyHash();
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
