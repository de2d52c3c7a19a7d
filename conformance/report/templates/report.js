"use strict";
// The report's behaviour: unpack the details, show a cell's details on click, switch between the
// grid and the list and to the verdicts at defaults, filter and fold. Every string from a results
// file is inserted with textContent, never parsed as HTML.
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

  function record(list, fields) {
    const out = {};
    (fields || DATA.fields).forEach((f, i) => { out[f] = DATA.strings[list[i]]; });
    return out;
  }

  // A verdict as written in a results file -> the CSS class and the symbol and word it shows as.
  const known = (v) => (Object.prototype.hasOwnProperty.call(DATA.shown, v) && v !== "not run" ? v : "unknown");
  const css = (v) => known(v).replace(" ", "");
  const said = (v) => DATA.shown[known(v)][0] + " " + (known(v) === "unknown" ? v : DATA.shown[v][1]);
  const kindOf = (k) => (Object.prototype.hasOwnProperty.call(DATA.kinds, k) ? k : "");

  function pre(body, title, text, copy) {
    if (!text) return;
    const h = el("h3", title);
    if (copy) {
      const b = el("button", "copy", "copy");
      b.type = "button";
      b.addEventListener("click", (ev) => { ev.stopPropagation(); copyText(text, b); });
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
    for (const [k, v] of shown) {
      const dd = v instanceof Node ? el("dd") : el("dd", v);
      if (v instanceof Node) dd.appendChild(v);
      dl.append(el("dt", k), dd);
    }
    body.appendChild(dl);
  }

  function link(url) {
    // Only http(s) links become clickable: a results file could hold "javascript:" or anything else.
    if (!/^https?:\/\//i.test(url)) return el("span", url);
    const a = el("a", url);
    a.href = url; a.rel = "noreferrer noopener"; a.target = "_blank";
    return a;
  }

  function table(head, cls) {
    const t = el("table", null, cls);
    const tr = el("tr");
    head.forEach((h) => tr.appendChild(el("th", h)));
    t.appendChild(tr);
    return t;
  }

  function layout(body, env, optimizer) {
    const lay = (DATA.layouts[env] || {})[optimizer];
    if (!lay || !Array.isArray(lay.variables)) return;
    body.appendChild(el("h3", "State layout (for weights of shapes " + JSON.stringify(lay.shapes || []) + ")"));
    const t = table(["variable", "shape", "dtype"]);
    for (const v of lay.variables) {
      const tr = el("tr");
      [v.name, JSON.stringify(v.shape), v.dtype].forEach((x) => tr.appendChild(el("td", x)));
      t.appendChild(tr);
    }
    body.appendChild(t);
  }

  function kindBadge(k) {
    const kind = kindOf(k);
    return kind ? el("span", DATA.kinds[kind][0] + " " + kind, "kind k-" + kind) : el("span", k || "");
  }

  // What a declared deviation says: its reason, kind, upstream report (a link, or "none found") and link.
  function deviation(body, title, rec) {
    pairs(body, title, [["expected", rec.expected], ["reason", rec.reason],
      ["kind", rec.kind ? kindBadge(rec.kind) : ""], ["kind means", kindOf(rec.kind) ? DATA.kinds[rec.kind][1].split(": ")[1] : ""],
      ["upstream", rec.upstream ? link(rec.upstream) : ""], ["link", rec.link ? link(rec.link) : ""]]);
  }

  // A condition's row opens, below it, what the table leaves out: the whole message, the case,
  // the counterexample and the reproducer.
  function conditionMore(c) {
    const td = el("td");
    td.colSpan = 5;
    pairs(td, "", [["constructed as", c.configuration], ["dtype", c.dtype], ["weight shapes", c.shapes],
      ["duration", c.duration_s ? c.duration_s + " s" : ""], ["examples drawn", c.examples]]);
    if (c.hyperparameters) pre(td, "Hyperparameters", c.hyperparameters);
    if (c.verdict === "deviation" || c.reason) deviation(td, "Declared deviation", c);
    pre(td, "Message", c.message);
    pre(td, "Minimal counterexample", c.counterexample);
    pre(td, "Reproducer (keras + numpy)", c.reproducer, true);
    if (td.childNodes.length === 0) td.appendChild(el("p", "Nothing more recorded for this condition."));
    const tr = el("tr", null, "more");
    tr.appendChild(td);
    return tr;
  }

  function conditions(body, key, worst) {
    const rows = DATA.conditions[key];
    if (!rows) return;
    body.appendChild(el("h3", "Conditions (" + rows.length + "): click one for its case, counterexample and reproducer"));
    const t = table(["condition", "verdict", "kind", "message", "configuration"], "conds");
    for (const [nameIdx, ...values] of rows) {
      const c = record(values, DATA.cond_fields);
      const name = DATA.strings[nameIdx];
      const tr = el("tr", null, "cond");
      tr.tabIndex = 0;
      tr.setAttribute("aria-expanded", "false");
      tr.append(el("td", name + (name === worst ? " (worst)" : ""), "name"), el("td", said(c.verdict), "v-" + css(c.verdict)),
        el("td"), el("td", null, "msg"), el("td", c.configuration, "code"));
      if (c.kind) tr.cells[2].appendChild(kindBadge(c.kind));
      tr.cells[3].appendChild(el("div", c.message.split("\n")[0])).title = c.message;
      let more = null;
      const toggle = () => {
        if (more) { more.remove(); more = null; } else { more = conditionMore(c); tr.after(more); }
        tr.setAttribute("aria-expanded", String(!!more));
      };
      tr.addEventListener("click", toggle);
      tr.addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); toggle(); } });
      t.appendChild(tr);
    }
    body.appendChild(t);
  }

  function changes(body, key, e) {
    const rows = DATA.changes[key];
    if (!rows) return;
    body.appendChild(el("h3", "Conditions changed against the baseline (" + DATA.baseline[e] + ")"));
    const t = table(["condition", "before", "now"], "conds");
    for (const [name, before, now] of rows.map((r) => r.map((i) => DATA.strings[i]))) {
      const tr = el("tr");
      tr.append(el("td", name), el("td", said(before), "v-" + css(before)), el("td", said(now), "v-" + css(now)));
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
    const shownText = cellNode ? cellNode.textContent.trim() : "";
    const badge = el("p");
    badge.appendChild(el("span", rec ? rec.verdict : shownText, "badge v-" + (rec ? css(rec.verdict) : "notrun")));
    if (rec && rec.kind) badge.append(" ", kindBadge(rec.kind));
    if (rec && DATA.conditions[key]) {
      const at = DATA.conditions[key].find(([n]) => DATA.strings[n] === "defaults");
      const dv = at ? record(at.slice(1), DATA.cond_fields).verdict : "";
      badge.append(" over every condition" + (rec.condition ? " (worst: " + rec.condition + ")" : "") + "; at defaults ",
        el("span", dv ? said(dv) : "— no defaults condition", "badge v-" + (dv ? css(dv) : "absent")));
    }
    body.appendChild(badge);
    // Where the claim holds across the environments: a line each (overall, at defaults), as text.
    const lines = (DATA.history[r] || []).map((i) => DATA.strings[i]);
    const history = lines.length ? el("div") : "";
    lines.forEach((line) => history.appendChild(el("div", line)));
    pairs(body, "", [["claim", claim], ["text", DATA.strings[textIdx]], ["source", DATA.strings[sourceIdx]],
      ["scenario", scenario], ["environment", env.label + ": " + env.describe], ["results file", env.file],
      ["across versions", history]]);
    if (!rec) {
      body.appendChild(el("p", "No verdict in this environment: " + shownText + "."));
    } else {
      conditions(body, key, rec.condition);
      changes(body, key, e);
      const of = rec.condition ? " (of the worst condition, " + rec.condition + ")" : "";
      pairs(body, "Configuration" + of, [["optimizer", optimizer + (rec.optimizer_kind ? " (" + rec.optimizer_kind + ")" : "")],
        ["constructed as", rec.configuration], ["dtype", rec.dtype], ["weight shapes", rec.shapes],
        ["duration", rec.duration_s ? rec.duration_s + " s" : ""], ["examples drawn", rec.examples], ["test", rec.nodeid]]);
      if (rec.hyperparameters) pre(body, "Hyperparameters", rec.hyperparameters);
      if (rec.verdict === "deviation" || rec.reason) deviation(body, "Declared deviation", rec);
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
    $$("td.c.selected, td.g.selected").forEach((n) => n.classList.remove("selected"));
    if (cellNode) cellNode.classList.add("selected");
    const aside = $("#details");
    aside.hidden = false;
    document.body.classList.add("with-details");
    aside.scrollTop = 0;
    if (cellNode) cellNode.scrollIntoView({block: "nearest", inline: "nearest"});  // the page just narrowed
  }

  function onCell(event) {
    const td = event.target.closest("td.c, td.g");
    const tr = td && td.closest("tr");
    if (!td) return;
    if (td.classList.contains("g")) {  // a grid cell: its row list row, its grid's environment
      if (td.dataset.r === undefined) return;  // no such (optimizer, claim) anywhere
      showDetails(Number(td.dataset.r), Number(td.closest("table").dataset.e), td);
    } else if (tr.dataset.r !== undefined) {
      // In the matrix a cell's environment is its column; elsewhere it says so (data-e).
      showDetails(Number(tr.dataset.r), td.dataset.e !== undefined ? Number(td.dataset.e) : td.cellIndex - 1, td);
    }
  }

  // Arrow keys move between the grid's visible cells: quicker than tabbing through every one.
  function moveInGrid(ev) {
    const td = ev.target.closest("td.g");
    const steps = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]}[ev.key];
    if (!td || !steps) return;
    const rows = $$("tbody tr", td.closest("table")).filter((r) => !r.hidden && !r.parentNode.hidden);
    const cellsOf = (r) => Array.from(r.cells).filter((c) => c.tagName === "TD");
    let y = rows.indexOf(td.parentNode), x = cellsOf(td.parentNode).indexOf(td);
    for (;;) {
      y += steps[0]; x += steps[1];
      const next = rows[y] && cellsOf(rows[y])[x];
      if (!next) return;
      if (!next.hidden && next.hasAttribute("tabindex")) { ev.preventDefault(); next.focus(); return; }
    }
  }

  // The defaults view: a recorded cell shows its verdict at defaults (none: no such condition);
  // its own look is kept to come back to. Cells without a record (not run, absent) stay as they are.
  function showAtDefaults(td, on) {
    if (!td._overall) td._overall = {cls: td.className, nodes: Array.from(td.childNodes)};
    const o = td._overall;
    if (!on || /\bv-(notrun|absent)\b/.test(o.cls) || td.classList.contains("none")) {
      td.className = o.cls; td.replaceChildren(...o.nodes); return;
    }
    const grid = td.classList.contains("g");  // a grid cell shows symbols, a list cell words too
    const dv = td.dataset.dv ? known(td.dataset.dv) : "", dk = kindOf(td.dataset.dk);
    const nodes = [dv ? (grid ? DATA.shown[dv][0] : said(dv)) : (grid ? "—" : "— no defaults condition")];
    if (dk && grid) nodes.push(el("sup", DATA.kinds[dk][0]));
    if (dk && !grid) nodes.push(" ", el("span", DATA.kinds[dk][0] + " " + dk, "kind k-" + dk));
    const change = o.nodes.filter((n) => n.nodeType === 1 && (n.classList.contains("chg") || n.classList.contains("change")));
    nodes.push(...(grid || !change.length ? change : [" ", ...change]));
    const keep = o.cls.split(" ").filter((c) => !/^(v|k)-/.test(c));
    td.className = [...keep, "v-" + (dv ? css(dv) : "absent"), dk ? "k-" + dk : "", dv ? "" : "nodefaults"].filter(Boolean).join(" ");
    td.replaceChildren(...nodes);
  }

  // Filters, views and folding.
  const collapsed = new Set();
  let atDefaults = false;

  function settings() {
    const value = (sel) => ($(sel) ? $(sel).value : "");
    const checked = (sel) => !!($(sel) && $(sel).checked);
    return {view: $("input[name=view]:checked").value, defaults: checked("#f-defaults"), env: value("#f-env"),
      optimizer: value("#f-optimizer"), scenario: value("#f-scenario"), kind: value("#f-kind"),
      verdicts: new Set($$("input[name=verdict]:checked").map((i) => i.value)),
      differ: checked("#f-differ"), changed: checked("#f-changed")};
  }

  function activeBody() {
    return $("tbody.order[data-order='" + $("#f-order").value + "']");
  }

  function applyList(f) {
    $$("tbody.order").forEach((b) => { b.hidden = b !== activeBody(); });
    const body = activeBody();
    const visibleGroups = new Set();
    let shown = 0;
    for (const tr of $$("tr.row", body)) {
      const verdicts = (f.defaults ? tr.dataset.vd : tr.dataset.v) || "";
      const kinds = ((f.defaults ? tr.dataset.kd : tr.dataset.k) || "").split(" ");
      const match = (!f.optimizer || tr.dataset.o === f.optimizer) && (!f.scenario || tr.dataset.s === f.scenario)
        && verdicts.split(" ").some((v) => f.verdicts.has(v)) && (!f.kind || kinds.includes(f.kind))
        && (!f.differ || tr.dataset.d) && (!f.changed || tr.dataset.c);
      if (match) { visibleGroups.add(tr.dataset.g); visibleGroups.add(tr.dataset.p); shown++; }
      tr.hidden = !match || collapsed.has(tr.dataset.g) || collapsed.has(tr.dataset.p);
    }
    for (const tr of $$("tr.g1, tr.g2", body)) {
      tr.hidden = !visibleGroups.has(tr.dataset.gid) || (tr.dataset.p !== undefined && collapsed.has(tr.dataset.p));
      const b = $("button.fold", tr);
      if (b) b.setAttribute("aria-expanded", String(!collapsed.has(tr.dataset.gid)));
    }
    return shown + " row" + (shown === 1 ? "" : "s") + " shown";
  }

  // The grid: the optimizer filter keeps one column, the scenario filter one group; the other filters
  // are per cell: a cell that does not match is faded, a claim none of whose cells match is hidden.
  function applyGrid(f, rowOf) {
    const narrowed = f.kind || f.differ || f.changed || f.verdicts.size < $$("input[name=verdict]").length;
    let cells = 0;
    const claims = new Set();
    for (const section of $$(".gridenv")) {
      section.hidden = f.env !== "" && section.dataset.e !== f.env;
      if (section.hidden) continue;
      const heads = $$("thead th.o", section);
      const column = f.optimizer ? heads.findIndex((th) => th.title === f.optimizer) : -1;
      heads.forEach((th, i) => { th.hidden = column >= 0 && i !== column; });
      for (const tbody of $$("tbody", section)) {
        const label = $("th.sc", tbody);
        const rows = Array.from(tbody.rows);
        const inScenario = !f.scenario || tbody.dataset.s === f.scenario;
        for (const tr of rows) {
          let any = false;
          const first = tr.cells.length - heads.length;
          heads.forEach((_, i) => {
            const td = tr.cells[first + i];
            td.hidden = column >= 0 && i !== column;
            const row = rowOf.get(td.dataset.r);
            const verdict = (/\bv-(\w+)/.exec(td.className) || [])[1];
            const match = inScenario && !td.hidden && !td.classList.contains("none") && f.verdicts.has(verdict) && (!f.kind || td.classList.contains("k-" + f.kind))
              && (!f.differ || (row && row.dataset.d)) && (!f.changed || /\bch-/.test(td.className));
            td.classList.toggle("faded", !match);
            if (match) cells++;
            any = any || match;
          });
          tr.hidden = !inScenario || (narrowed && !any);
          if (!tr.hidden) claims.add($("th.cl", tr).title);
        }
        // The scenario's label spans its visible rows, from the first of them.
        const visible = rows.filter((tr) => !tr.hidden);
        tbody.hidden = !visible.length;
        if (visible.length) { label.rowSpan = visible.length; visible[0].prepend(label); }
      }
    }
    return claims.size + " claim" + (claims.size === 1 ? "" : "s") + ", " + cells + " cell" + (cells === 1 ? "" : "s") + " shown";
  }

  function apply() {
    const f = settings();
    if (f.defaults !== atDefaults && DATA) {
      atDefaults = f.defaults;
      $$("td.g[tabindex], #matrix td.c[tabindex], table.regressions td.c").forEach((td) => showAtDefaults(td, atDefaults));
    }
    document.body.classList.toggle("at-defaults", atDefaults);
    $("#grid-view").hidden = f.view !== "grid";
    $("#list-view").hidden = f.view !== "list";
    $$(".only-grid").forEach((n) => { n.hidden = f.view !== "grid"; });
    $$(".only-list").forEach((n) => { n.hidden = f.view !== "list"; });
    const rowOf = new Map($$("tbody.order[data-order='claim'] tr.row").map((tr) => [tr.dataset.r, tr]));
    $("#f-count").textContent = f.view === "grid" ? applyGrid(f, rowOf) : applyList(f);
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
    unpack().then(apply, (err) => {  // apply again: the defaults view needs the data's symbols
      document.body.dataset.ready = "error";
      const p = el("p", "The cell details could not be unpacked in this browser (" + err + "); the grid and the list are complete without them.", "note");
      $("#matrix-section").prepend(p);
    });
    $("#matrix").addEventListener("click", (ev) => { if (!fold(ev)) onCell(ev); });
    $("#grid-view").addEventListener("click", onCell);
    for (const view of [$("#matrix"), $("#grid-view")]) {
      view.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onCell(ev); else moveInGrid(ev); });
    }
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
