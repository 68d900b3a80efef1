// The source reader: show the claims on the passage under the pointer or the
// focus, and highlight the span named by an RFC 5147 fragment (#chars=START,END).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  function quotesAt(mark) {
    const ids = [];
    for (let node = mark; node && node.id !== "source-text"; node = node.parentElement) {
      if (node.tagName === "MARK" && !ids.includes(node.dataset.quote)) ids.push(node.dataset.quote);
    }
    return ids;
  }

  function show(mark) {
    const entries = quotesAt(mark).map((id) => $(id)).filter(Boolean).map((entry) => {
      const copy = entry.cloneNode(true);
      copy.removeAttribute("id");
      for (const jump of copy.querySelectorAll(".jump")) jump.remove();
      return copy;
    });
    $("claims-list").replaceChildren(...entries.map((e) => {
      const box = document.createElement("div");
      box.className = "panel-quote";
      box.append(...e.childNodes);
      return box;
    }));
    $("claims-empty").hidden = entries.length > 0;
    for (const m of document.querySelectorAll("mark.active")) m.classList.remove("active");
    mark.classList.add("active");
  }

  function textRange(start, end) {
    const root = $("source-text");
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let offset = 0;
    let begun = false;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const length = node.data.length;
      if (!begun && start <= offset + length) { range.setStart(node, start - offset); begun = true; }
      if (begun && end <= offset + length) { range.setEnd(node, end - offset); return range; }
      offset += length;
    }
    return null;
  }

  function target() {
    for (const m of document.querySelectorAll("mark.target")) m.classList.remove("target");
    if (window.CSS && CSS.highlights) CSS.highlights.delete("target");
    const match = /^#chars=(\d+),(\d+)$/.exec(location.hash);
    if (!match || !$("source-text")) return;
    const [start, end] = [Number(match[1]), Number(match[2])];
    const marks = [...document.querySelectorAll(`mark[data-start="${start}"][data-end="${end}"]`)];
    if (marks.length) {
      for (const m of marks) m.classList.add("target");
      marks[0].scrollIntoView({ block: "center" });
      marks[0].focus({ preventScroll: true });
      show(marks[0]);
      return;
    }
    const range = textRange(start, end);  // a span that is not a quote: highlight it all the same
    if (!range) return;
    if (window.CSS && CSS.highlights && window.Highlight) CSS.highlights.set("target", new Highlight(range));
    range.startContainer.parentElement.scrollIntoView({ block: "center" });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const text = $("source-text");
    if (text) {
      for (const kind of ["mouseover", "focusin"]) {
        text.addEventListener(kind, (event) => {
          const mark = event.target.closest("mark");
          if (mark) show(mark);
        });
      }
    }
    window.addEventListener("hashchange", target);
    target();
    document.body.dataset.ready = "true";
  });
})();
