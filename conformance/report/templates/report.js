"use strict";
// The report's behaviour: unpack the details, show a cell's details on click, filter and fold rows.
// Every string from a results file is inserted with textContent, never parsed as HTML.
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  let DATA = null;

  async function unpack() {
    const b64 = $("#details-data").textContent.trim();
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    DATA = JSON.parse(await new Response(stream).text());
    document.body.dataset.ready = "1";
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function record(list) {
    const out = {};
    DATA.fields.forEach((f, i) => { out[f] = DATA.strings[list[i]]; });
    return out;
  }

  function pre(body, title, text, copy) {
    if (!text) return;
    const h = el("h3", title);
    if (copy) {
      const b = el("button", "copy", "copy");
      b.type = "button";
      b.addEventListener("click", () => copyText(text, b));
      h.appendChild(b);
    }
    body.append(h, el("pre", text));
  }

  function copyText(text, button) {
    const done = () => { button.textContent = "copied"; setTimeout(() => { button.textContent = "copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text, done));
    } else {
      fallbackCopy(text, done);
    }
  }

  function fallbackCopy(text, done) {
    const area = el("textarea", text);
    area.setAttribute("readonly", "");
    area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { if (document.execCommand("copy")) done(); } finally { area.remove(); }
  }

  function pairs(body, title, items) {
    const shown = items.filter(([, v]) => v !== undefined && v !== null && v !== "");
    if (!shown.length) return;
    if (title) body.appendChild(el("h3", title));
    const dl = el("dl");
    for (const [k, v] of shown) dl.append(el("dt", k), el("dd", v));
    body.appendChild(dl);
  }

  function link(url) {
    // Only http(s) links become clickable: a results file could hold "javascript:" or anything else.
    if (!/^https?:\/\//i.test(url)) return el("span", url);
    const a = el("a", url);
    a.href = url; a.rel = "noreferrer noopener"; a.target = "_blank";
    return a;
  }

  function layout(body, env, optimizer) {
    const lay = (DATA.layouts[env] || {})[optimizer];
    if (!lay || !Array.isArray(lay.variables)) return;
    body.appendChild(el("h3", "State layout (for weights of shapes " + JSON.stringify(lay.shapes || []) + ")"));
    const t = el("table");
    const head = el("tr");
    ["variable", "shape", "dtype"].forEach((h) => head.appendChild(el("th", h)));
    t.appendChild(head);
    for (const v of lay.variables) {
      const tr = el("tr");
      [v.name, JSON.stringify(v.shape), v.dtype].forEach((x) => tr.appendChild(el("td", x)));
      t.appendChild(tr);
    }
    body.appendChild(t);
  }

  function showDetails(r, e, cellNode) {
    if (!DATA) return;
    const [optimizer, claim, scenario] = DATA.rows[r].map((i) => DATA.strings[i]);
    const env = DATA.environments[e];
    const key = r + "." + e;
    const body = $("#details-body");
    body.replaceChildren();
    $("#details-h").textContent = optimizer + " · " + claim + " · " + env.label;
    const [textIdx, sourceIdx] = DATA.claims[claim] || [0, 0];
    const rec = DATA.cells[key] ? record(DATA.cells[key]) : null;
    const verdict = rec ? rec.verdict : (cellNode ? cellNode.textContent.trim() : "");
    const badge = el("p");
    badge.appendChild(el("span", verdict, "badge v-" + (rec ? rec.verdict : "notrun")));
    body.appendChild(badge);
    pairs(body, "", [["claim", claim], ["text", DATA.strings[textIdx]], ["source", DATA.strings[sourceIdx]],
      ["scenario", scenario], ["environment", env.label + ": " + env.describe], ["results file", env.file]]);
    if (!rec) {
      body.appendChild(el("p", "No verdict in this environment: " + (cellNode ? cellNode.textContent.trim() : "") + "."));
    } else {
      pairs(body, "Configuration", [["optimizer", optimizer + (rec.optimizer_kind ? " (" + rec.optimizer_kind + ")" : "")],
        ["constructed as", rec.configuration], ["dtype", rec.dtype], ["weight shapes", rec.shapes],
        ["duration", rec.duration_s ? rec.duration_s + " s" : ""], ["examples drawn", rec.examples], ["test", rec.nodeid]]);
      if (rec.hyperparameters) pre(body, "Hyperparameters", rec.hyperparameters);
      if (rec.verdict === "deviation" || rec.reason) {
        pairs(body, "Declared deviation", [["expected", rec.expected], ["reason", rec.reason]]);
        if (rec.link) body.appendChild(link(rec.link));
      }
      if (rec.stale) pairs(body, "Stale expectation", [["declared", rec.stale]]);
      pre(body, "Message", rec.message);
      pre(body, "Minimal counterexample (hypothesis)", rec.counterexample);
      pre(body, "Reproducer (keras + numpy)", rec.reproducer, true);
      if (rec.ran_on) pre(body, "Ran on", rec.ran_on);
    }
    if (DATA.before[key]) {
      const old = record(DATA.before[key]);
      pairs(body, "Baseline (" + DATA.baseline[e] + ")", [["verdict", old.verdict], ["reason", old.reason]]);
      pre(body, "Baseline message", old.message);
    }
    layout(body, e, optimizer);
    $$("td.c.selected").forEach((n) => n.classList.remove("selected"));
    if (cellNode) cellNode.classList.add("selected");
    const aside = $("#details");
    aside.hidden = false;
    document.body.classList.add("with-details");
    aside.scrollTop = 0;
    if (cellNode) cellNode.scrollIntoView({block: "nearest", inline: "nearest"});  // the page just narrowed
  }

  function onCell(event) {
    const td = event.target.closest("td.c");
    const tr = td && td.closest("tr[data-r]");
    if (!tr) return;
    // In the matrix a cell's environment is its column; elsewhere it says so (data-e).
    showDetails(Number(tr.dataset.r), td.dataset.e !== undefined ? Number(td.dataset.e) : td.cellIndex - 1, td);
  }

  // Filters and folding.
  const collapsed = new Set();

  function activeBody() {
    return $("tbody.order[data-order='" + $("#f-order").value + "']");
  }

  function apply() {
    const opt = $("#f-optimizer").value, scen = $("#f-scenario").value;
    const verdicts = new Set($$("input[name=verdict]:checked").map((i) => i.value));
    const differ = $("#f-differ").checked, changed = $("#f-changed") ? $("#f-changed").checked : false;
    $$("tbody.order").forEach((b) => { b.hidden = b !== activeBody(); });
    const body = activeBody();
    const visibleGroups = new Set();
    let shown = 0;
    for (const tr of $$("tr.row", body)) {
      const match = (!opt || tr.dataset.o === opt) && (!scen || tr.dataset.s === scen)
        && tr.dataset.v.split(" ").some((v) => verdicts.has(v))
        && (!differ || tr.dataset.d) && (!changed || tr.dataset.c);
      if (match) { visibleGroups.add(tr.dataset.g); visibleGroups.add(tr.dataset.p); shown++; }
      tr.hidden = !match || collapsed.has(tr.dataset.g) || collapsed.has(tr.dataset.p);
    }
    for (const tr of $$("tr.g1, tr.g2", body)) {
      tr.hidden = !visibleGroups.has(tr.dataset.gid) || (tr.dataset.p !== undefined && collapsed.has(tr.dataset.p));
      const b = $("button.fold", tr);
      if (b) b.setAttribute("aria-expanded", String(!collapsed.has(tr.dataset.gid)));
    }
    $("#f-count").textContent = shown + " row" + (shown === 1 ? "" : "s") + " shown";
  }

  function fold(event) {
    const b = event.target.closest("button.fold");
    if (!b) return false;
    const gid = b.closest("tr").dataset.gid;
    if (collapsed.has(gid)) collapsed.delete(gid); else collapsed.add(gid);
    apply();
    return true;
  }

  document.addEventListener("DOMContentLoaded", () => {
    unpack().catch((err) => {
      document.body.dataset.ready = "error";
      const p = el("p", "The cell details could not be unpacked in this browser (" + err + "); the matrix is complete without them.", "note");
      $("#matrix-section").prepend(p);
    });
    $("#matrix").addEventListener("click", (ev) => { if (!fold(ev)) onCell(ev); });
    $("#matrix").addEventListener("keydown", (ev) => { if (ev.key === "Enter") onCell(ev); });
    const regressions = $("table.regressions");
    if (regressions) regressions.addEventListener("click", onCell);
    const close = () => { $("#details").hidden = true; document.body.classList.remove("with-details"); };
    $("#details-close").addEventListener("click", close);
    document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") close(); });
    $("#filters").addEventListener("change", apply);
    $("#filters").addEventListener("submit", (ev) => ev.preventDefault());
    $("#f-collapse").addEventListener("click", () => { $$("tr.g2", activeBody()).forEach((tr) => collapsed.add(tr.dataset.gid)); apply(); });
    $("#f-expand").addEventListener("click", () => { collapsed.clear(); apply(); });
    apply();
  });
})();
