// Granary's feature catalog: a small single-page app over /api/catalog and /api/health. No framework, no CDN; every
// text from the registry is set with textContent (never parsed as HTML).
"use strict";

const main = document.getElementById("main");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

// With authorization on, the catalog's JSON needs a bearer token. The user pastes an API key or a JWT once: it is kept
// in this tab's sessionStorage (gone when the tab closes) and sent only to this gateway, in the Authorization header.
const tokenKey = "granary.token";
function storedToken() { try { return sessionStorage.getItem(tokenKey); } catch { return null; } }

class SignInNeeded extends Error {
  constructor(body) { super("sign-in needed"); this.body = body || {}; }
}

async function getJson(url) {
  const headers = { accept: "application/json" };
  const token = storedToken();
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(url, { headers });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (response.status === 401) throw new SignInNeeded(body);
  return { status: response.status, body };
}

function renderSignIn(refused) {
  const token = storedToken();
  sessionStorage.removeItem(tokenKey);
  showSignOut(false);
  const input = el("input", { type: "password", name: "token", placeholder: "API key (gk_...) or JWT", autocomplete: "off", "data-testid": "sign-in-token", autofocus: "" });
  const form = el("form", { class: "search", "data-testid": "sign-in" },
    el("p", { text: "This gateway needs credentials. Paste an API key (granary auth create-key) or a JWT; it is kept in this browser tab only." }),
    input, el("button", { type: "submit", "data-testid": "sign-in-button", text: "Sign in" }));
  // Only a token that was tried and refused gets a message; the first visit just asks.
  if (token) form.append(el("div", { class: "error", "data-testid": "sign-in-error", text: "The gateway refused these credentials: " + (refused.message || "401") }));
  form.addEventListener("submit", e => {
    e.preventDefault();
    const value = input.value.trim();
    if (!value) return;
    sessionStorage.setItem(tokenKey, value);
    start();
  });
  main.replaceChildren(form);
}

function showSignOut(show) {
  const link = document.getElementById("sign-out");
  if (link) link.hidden = !show;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  let s = Math.round(seconds);
  if (s < 60) return s + "s";
  const parts = [];
  for (const [unit, suffix] of [[86400, "d"], [3600, "h"], [60, "m"]]) {
    if (s >= unit) { parts.push(Math.floor(s / unit) + suffix); s %= unit; }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

function time(iso) {
  if (!iso) return "-";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:00Z$/, "Z");
}

const freshnessText = { fresh: "FRESH", stale: "STALE", no_sla: "NO SLA", never_materialized: "NEVER MATERIALIZED" };

function freshnessBadge(f) {
  return el("span", { class: "badge " + f.status, "data-testid": "freshness-badge", title: f.rule, text: freshnessText[f.status] || f.status });
}

function tags(t) {
  const entries = Object.entries(t || {});
  return entries.length ? entries.map(([k, v]) => el("span", { class: "tag", text: k + "=" + v })) : el("span", { class: "muted", text: "-" });
}

function viewLink(name) { return el("a", { href: "#/view/" + encodeURIComponent(name), text: name }); }

function errorBox(result, what) {
  const b = result.body || {};
  return el("div", { class: "error", "data-testid": "error" }, `${what}: ${b.message || "HTTP " + result.status}`, b.hint ? el("div", { class: "muted", text: "hint: " + b.hint }) : null);
}

// ---- front page: search and every view with its freshness ----

async function renderHome(params) {
  const form = el("form", { class: "search", "data-testid": "search-form" },
    el("input", { name: "q", placeholder: "name of a view, feature, service or entity", "data-testid": "search-input", value: params.get("q") || "", autofocus: "" }),
    el("input", { name: "tag", placeholder: "tag (key or key=value)", value: params.get("tag") || "" }),
    el("input", { name: "owner", placeholder: "owner", value: params.get("owner") || "" }),
    el("select", { name: "kind" }, el("option", { value: "", text: "every kind" }),
      ...["feature_view", "feature", "on_demand_feature_view", "feature_service", "entity"].map(k => el("option", { value: k, text: k.replaceAll("_", " "), selected: params.get("kind") === k ? "" : null }))),
    el("button", { type: "submit", "data-testid": "search-button", text: "Search" }));
  form.addEventListener("submit", e => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (String(v).trim()) q.set(k, String(v).trim());
    location.hash = "#/search?" + q.toString();
  });
  const content = [el("div", { class: "card" }, el("h2", { text: "Search the catalog" }), form)];
  const searching = ["q", "tag", "owner", "kind"].some(k => params.get(k));
  if (searching) content.push(await searchResults(params));
  content.push(await viewsTable());
  main.replaceChildren(...content);
}

async function searchResults(params) {
  const q = new URLSearchParams();
  for (const k of ["q", "tag", "owner", "kind"]) if (params.get(k)) q.set(k, params.get(k));
  const result = await getJson("/api/catalog/search?" + q.toString());
  const card = el("div", { class: "card", "data-testid": "search-results" }, el("h2", { text: "Results" }));
  if (result.status !== 200) { card.append(errorBox(result, "search failed")); return card; }
  const rows = result.body.results;
  if (!rows.length) { card.append(el("p", { class: "muted", text: "Nothing matches." })); return card; }
  card.append(el("table", {},
    el("thead", {}, el("tr", {}, ["kind", "name", "details", "owner", "tags"].map(h => el("th", { text: h })))),
    el("tbody", {}, rows.map(r => el("tr", { "data-testid": "search-result" },
      el("td", {}, el("span", { class: "badge kind", text: r.kind.replaceAll("_", " ") })),
      el("td", {}, r.kind === "feature_view" ? viewLink(r.name) : r.kind === "feature" ? el("span", {}, viewLink(r.feature_view), ":", el("strong", { text: r.name })) : el("strong", { text: r.name })),
      el("td", {}, resultDetails(r)),
      el("td", { text: r.owner || "-" }),
      el("td", {}, tags(r.tags)))))));
  return card;
}

function resultDetails(r) {
  switch (r.kind) {
    case "feature_view": return el("span", {}, freshnessBadge(r.freshness), " ", r.description || "");
    case "feature": return el("span", {}, el("code", { text: r.type }), " ", r.description || "");
    case "feature_service": return el("span", {}, "model ", el("strong", { text: r.model }), " · views ", ...r.feature_views.flatMap((v, i) => i ? [", ", viewLink(v)] : [viewLink(v)]));
    case "entity": return el("span", {}, "join key ", el("code", { text: r.join_key }), " · views ", ...r.feature_views.flatMap((v, i) => i ? [", ", viewLink(v)] : [viewLink(v)]));
    case "on_demand_feature_view": return el("span", {}, "from ", r.sources.join(", "));
    default: return "";
  }
}

async function viewsTable() {
  const result = await getJson("/api/catalog/feature-views");
  const card = el("div", { class: "card" }, el("h2", { text: "Feature views" }));
  if (result.status !== 200) { card.append(errorBox(result, "cannot list feature views")); return card; }
  card.append(el("table", { "data-testid": "views-table" },
    el("thead", {}, el("tr", {}, ["feature view", "freshness", "age / SLA", "owner", "features", "tags"].map(h => el("th", { text: h })))),
    el("tbody", {}, result.body.feature_views.map(v => el("tr", {},
      el("td", {}, viewLink(v.name)),
      el("td", {}, freshnessBadge(v.freshness)),
      el("td", { text: duration(v.freshness.age_seconds) + " / " + duration(v.freshness.sla_seconds) }),
      el("td", { text: v.owner || "-" }),
      el("td", { text: v.features }),
      el("td", {}, tags(v.tags)))))));
  return card;
}

// ---- a view's page ----

async function renderView(name) {
  const result = await getJson("/api/catalog/feature-views/" + encodeURIComponent(name));
  if (result.status !== 200) { main.replaceChildren(errorBox(result, `feature view '${name}'`)); return; }
  const v = result.body;
  const f = v.freshness;
  const content = [
    el("h1", {}, el("span", { "data-testid": "view-name", text: v.name }), freshnessBadge(f)),
    el("p", { class: "muted", text: v.description || "No description." }),
  ];
  if (f.stale)
    content.push(el("div", { class: "stale-banner", "data-testid": "stale-banner" },
      `STALE: online values are ${duration(f.age_seconds)} old, over the freshness SLA of ${duration(f.sla_seconds)} (materialized up to ${time(f.fresh_as_of)}).`));
  content.push(el("div", { class: "grid" }, overview(v), freshnessCard(f)));
  content.push(el("div", { class: "grid" }, schemaCard(v), usedByCard(v)));
  content.push(materializationCard(v.materialization));
  if (v.quality_gate) content.push(qualityGateCard(v.quality_gate));
  const [parity, drift] = await Promise.all([getJson("/api/health/parity"), getJson("/api/health/drift")]);
  content.push(el("div", { class: "grid" }, parityCard(v.name, parity), driftCard(v.name, drift)));
  content.push(historyCard(v.history));
  main.replaceChildren(...content);
  if (v.materialization.last_run.state === "running") scheduleRefresh();
}

function overview(v) {
  const source = v.source || {};
  const where = source.path || source.table || source.query || (source.batch ? "push, history in " + source.batch.name : "");
  return el("div", { class: "card" }, el("h2", { text: "Overview" }), el("dl", { class: "kv" },
    el("dt", { text: "owner" }), el("dd", { text: v.owner || "-" }),
    el("dt", { text: "tags" }), el("dd", {}, tags(v.tags)),
    el("dt", { text: "entities" }), el("dd", {}, v.entities.map((e, i) => el("span", {}, i ? ", " : "", e.name, " (", el("code", { text: e.join_key + ": " + e.value_type }), ")"))),
    el("dt", { text: "TTL" }), el("dd", { text: v.ttl || "none" }),
    el("dt", { text: "freshness SLA" }), el("dd", { "data-testid": "freshness-sla", text: v.freshness_sla || "none" }),
    el("dt", { text: "online" }), el("dd", { text: v.online ? "yes" : "no (offline only)" }),
    el("dt", { text: "schedule" }), el("dd", { text: v.materialize_every ? "every " + v.materialize_every : "none" }),
    el("dt", { text: "source" }), el("dd", {}, el("strong", { text: source.name || "-" }), source.kind ? ` (${source.kind}) ` : " ", el("code", { text: where }),
      source.timestamp_field ? el("div", { class: "muted", text: "event time: " + source.timestamp_field }) : null),
    el("dt", { text: "registry" }), el("dd", { text: `project ${v.project}, version ${v.registry_version}` })));
}

// The view's data rules, its quality gate, and the last gate check of a materialization.
function qualityGateCard(g) {
  const card = el("div", { class: "card", "data-testid": "quality-gate" }, el("h2", { text: "Data rules and quality gate" }));
  const percent = x => x === null || x === undefined ? "-" : (Math.round(x * 10000) / 100) + " %";
  card.append(el("dl", { class: "kv" },
    el("dt", { text: "completeness" }), el("dd", { text: g.completeness === null || g.completeness === undefined ? "not checked" : "at least " + percent(g.completeness) }),
    el("dt", { text: "max rejected share" }), el("dd", { text: percent(g.max_rejected_share) }),
    el("dt", { text: "rules" }), el("dd", {}, g.rules.length === 0 ? "none" : g.rules.map((r, i) => el("span", {}, i ? ", " : "", el("code", { text: r.check }), ` on ${r.rule.split(".")[0]} (${r.on_break})`)))));
  const last = g.last_result;
  if (!last) { card.append(el("p", { class: "muted", "data-testid": "gate-result", text: "No gate check has run yet." })); return card; }
  card.append(el("p", { "data-testid": "gate-result" },
    el("span", { class: "badge " + (last.passed ? "fresh" : "stale"), text: last.passed ? "GATE PASSED" : "GATE FAILED" }),
    ` ${time(last.checked_at)}: ${last.rows_read} rows read, ${last.rows_rejected} rejected, ${last.rows_quarantined} quarantined, ${last.rows_warned} warned; completeness ${percent(last.completeness)}` +
    (last.least_complete_feature ? ` (${last.least_complete_feature})` : "") + "."));
  if (last.reason) card.append(el("p", { class: "muted", "data-testid": "gate-reason", text: last.reason }));
  return card;
}

// Age against the SLA as a bar: the SLA is the tick, red past it.
function freshnessCard(f) {
  const card = el("div", { class: "card", "data-testid": "freshness" }, el("h2", { text: "Freshness" }));
  if (f.status === "never_materialized") {
    card.append(el("p", {}, freshnessBadge(f), " No materialization recorded yet", f.sla_seconds ? ` (SLA ${duration(f.sla_seconds)}).` : "."));
    return card;
  }
  card.append(el("dl", { class: "kv" },
    el("dt", { text: "age" }), el("dd", { "data-testid": "freshness-age", text: duration(f.age_seconds) }),
    el("dt", { text: "SLA" }), el("dd", { text: f.sla_seconds ? duration(f.sla_seconds) : "none declared" }),
    el("dt", { text: "fresh as of" }), el("dd", { text: time(f.fresh_as_of) })));
  if (f.sla_seconds) {
    const width = 320, scale = Math.max(f.age_seconds, f.sla_seconds) * 1.15 || 1;
    const ageW = Math.max(2, width * f.age_seconds / scale), slaX = width * f.sla_seconds / scale;
    card.append(svg("svg", { width: width + 20, height: 44, role: "img", "aria-label": "age against SLA" },
      svg("rect", { x: 0, y: 8, width, height: 14, rx: 3, fill: "#eceff3" }),
      svg("rect", { x: 0, y: 8, width: ageW, height: 14, rx: 3, fill: f.stale ? "#b3261e" : "#1f7a3d" }),
      svg("line", { x1: slaX, x2: slaX, y1: 2, y2: 28, stroke: "#1d2430", "stroke-width": 2 }),
      svg("text", { x: Math.min(slaX, width - 40), y: 40, class: "bar-label" }, "SLA " + duration(f.sla_seconds))));
  }
  card.append(el("p", { class: "muted", text: "Rule: " + f.rule + "." }));
  return card;
}

function schemaCard(v) {
  return el("div", { class: "card" }, el("h2", { text: "Schema" }), el("table", { "data-testid": "schema" },
    el("thead", {}, el("tr", {}, el("th", { text: "feature" }), el("th", { text: "type" }), el("th", { text: "description" }))),
    el("tbody", {}, v.features.map(x => el("tr", {}, el("td", {}, el("strong", { text: x.name })), el("td", {}, el("code", { text: x.type })), el("td", { class: "muted", text: x.description || "" }))))));
}

function usedByCard(v) {
  const card = el("div", { class: "card", "data-testid": "used-by" }, el("h2", { text: "Used by" }));
  if (!v.feature_services.length) { card.append(el("p", { class: "muted", text: "No feature service uses this view." })); return card; }
  card.append(el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "feature service" }), el("th", { text: "model" }), el("th", { text: "features" }))),
    el("tbody", {}, v.feature_services.map(s => el("tr", {}, el("td", {}, el("strong", { text: s.name })), el("td", { text: s.model }), el("td", {}, el("code", { text: s.features.join(", ") })))))),
    el("p", { class: "muted", text: "Model: a service's 'model' tag, else its name." }));
  return card;
}

function progressBar(fraction, failed) {
  const width = 220, w = Math.max(0, Math.min(1, fraction)) * width;
  return svg("svg", { width: width + 50, height: 16, role: "img", "aria-label": "progress" },
    svg("rect", { x: 0, y: 3, width, height: 10, rx: 3, fill: "#eceff3" }),
    svg("rect", { x: 0, y: 3, width: w, height: 10, rx: 3, fill: failed ? "#b3261e" : "#2f5fb3" }),
    svg("text", { x: width + 6, y: 13, class: "bar-label" }, Math.round(fraction * 100) + "%"));
}

function materializationCard(m) {
  const r = m.last_run;
  const card = el("div", { class: "card", "data-testid": "materialization" }, el("h2", { text: "Materialization" }));
  if (r.state === "idle") card.append(el("p", { class: "muted", text: "No run since this silo's grain was activated." }));
  else card.append(el("dl", { class: "kv" },
    el("dt", { text: "last run" }), el("dd", { "data-testid": "last-run-state" }, el("strong", { text: r.state }), ` [${time(r.start)}, ${time(r.end)}]`),
    el("dt", { text: "progress" }), el("dd", {}, progressBar(r.progress, r.state === "failed"), ` ${r.partitions_done}/${r.partitions} partitions, ${r.rows_written} rows written`),
    el("dt", { text: "started / finished" }), el("dd", { text: `${time(r.started_at)} / ${time(r.finished_at)}` + (r.resumes ? `, resumed ${r.resumes}x` : "") }),
    r.error ? el("dt", { text: "error" }) : null, r.error ? el("dd", { class: "diff-before", text: r.error }) : null));
  card.append(el("h2", { text: `Recorded intervals (${m.intervals_recorded})` }));
  if (!m.intervals.length) card.append(el("p", { class: "muted", text: "None recorded." }));
  else card.append(el("table", {},
    el("thead", {}, el("tr", {}, el("th", { text: "start" }), el("th", { text: "end" }), el("th", { text: "recorded at" }))),
    el("tbody", {}, m.intervals.map(i => el("tr", {}, el("td", { text: time(i.start) }), el("td", { text: time(i.end) }), el("td", { text: time(i.recorded_at) }))))));
  return card;
}

function checkFor(name, result) {
  if (result.status !== 200 || !result.body || !Array.isArray(result.body.views)) return null;
  return result.body.views.find(x => x.feature_view === name) || null;
}

function parityCard(name, result) {
  const card = el("div", { class: "card", "data-testid": "parity" }, el("h2", { text: "Online/offline parity" }));
  const p = checkFor(name, result);
  if (!p) { card.append(el("p", { class: "muted", text: "no check yet" })); return card; }
  const rate = typeof p.parity_rate === "number" ? (p.parity_rate * 100).toFixed(2) + "%" : "-";
  card.append(el("dl", { class: "kv" },
    el("dt", { text: "parity rate" }), el("dd", {}, el("strong", { text: rate })),
    el("dt", { text: "checked at" }), el("dd", { text: time(p.checked_at) }),
    el("dt", { text: "mismatches" }), el("dd", { text: (p.mismatches || []).length })));
  const shown = (p.mismatches || []).slice(0, 10);
  if (shown.length) card.append(el("pre", { class: "mono", text: shown.map(x => JSON.stringify(x)).join("\n") }));
  return card;
}

function driftCard(name, result) {
  const card = el("div", { class: "card", "data-testid": "drift" }, el("h2", { text: "Drift against training data" }));
  const d = checkFor(name, result);
  if (!d) { card.append(el("p", { class: "muted", text: "no check yet" })); return card; }
  const num = x => typeof x === "number" ? x.toFixed(3) : "-";
  card.append(el("p", { class: "muted", text: "checked at " + time(d.checked_at) }), el("table", {},
    el("thead", {}, el("tr", {}, ["feature", "kind", "PSI", "KS", "chi² p", "NULL-rate diff", ""].map(h => el("th", { text: h })))),
    el("tbody", {}, (d.features || []).map(x => el("tr", { class: x.drifted ? "drifted" : null },
      el("td", {}, el("strong", { text: x.feature })), el("td", { text: x.kind }), el("td", { text: num(x.psi) }), el("td", { text: num(x.ks) }),
      el("td", { text: num(x.chi_square_p) }), el("td", { text: num(x.null_rate_difference) }),
      el("td", {}, x.drifted ? el("span", { class: "badge stale", text: "DRIFTED" }) : el("span", { class: "badge fresh", text: "ok" })))))));
  return card;
}

function historyCard(history) {
  const card = el("div", { class: "card", "data-testid": "history" }, el("h2", { text: "Registry history" }));
  if (!history.length) { card.append(el("p", { class: "muted", text: "No version changed this view." })); return card; }
  for (const h of history)
    card.append(el("div", { class: "history-entry" },
      el("div", {}, el("strong", { text: "version " + h.version }), ` · ${h.change} · ${time(h.created_at)} · `, el("span", { class: "muted", text: h.summary })),
      h.fields.length ? el("table", {}, el("tbody", {}, h.fields.map(x => el("tr", {},
        el("td", {}, el("code", { text: x.field })),
        el("td", {}, x.before === null ? el("span", { class: "muted", text: "(absent)" }) : el("span", { class: "diff-before mono", text: x.before })),
        el("td", {}, x.after === null ? el("span", { class: "muted", text: "(absent)" }) : el("span", { class: "diff-after mono", text: x.after })))))) : null));
  return card;
}

// ---- routing ----

let refreshTimer = null;
function scheduleRefresh() { clearTimeout(refreshTimer); refreshTimer = setTimeout(route, 2000); }

async function route() {
  clearTimeout(refreshTimer);
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/view/")) await renderView(decodeURIComponent(hash.slice(7)));
    else await renderHome(new URLSearchParams(hash.startsWith("#/search?") ? hash.slice(9) : ""));
  } catch (e) {
    if (e instanceof SignInNeeded) renderSignIn(e.body);
    else main.replaceChildren(el("div", { class: "error", text: "The catalog could not be loaded: " + e }));
  }
}

let listening = false;
async function start() {
  const info = await getJson("/api/catalog/feature-views").catch(e => ({ status: e instanceof SignInNeeded ? 401 : 0 }));
  if (info.status === 200) {
    document.getElementById("project").textContent = "project " + info.body.project;
    const link = document.getElementById("dashboard-link");
    if (link && info.body.dashboard_url) link.href = info.body.dashboard_url; else if (link) link.remove();
    showSignOut(storedToken() !== null);
  }
  if (!listening) {
    window.addEventListener("hashchange", route);
    document.getElementById("sign-out").addEventListener("click", e => {
      e.preventDefault();
      sessionStorage.removeItem(tokenKey);
      document.getElementById("project").textContent = "";
      start();
    });
    listening = true;
  }
  await route();
}

start();
