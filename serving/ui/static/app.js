// cxpredict dashboard: a key in sessionStorage, pages by URL hash, data from the service's API.
"use strict";
const KEY = "cxpredict.key";
const POLL_MS = 2000; // a customer's page asks again this often, so a new event shows within seconds
const HIGH = 0.5, MEDIUM = 0.2; // the service's risk bands (serving/ui/data.py)
let me = null, timer = null;

function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

class Refused extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem(KEY) };
  if (options.body) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, { ...options, headers });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Refused(answer.status, typeof body.detail === "string" ? body.detail : answer.statusText);
  return body;
}

function band(p) { return p >= HIGH ? "high" : p >= MEDIUM ? "medium" : "low"; }
function riskBadge(p) {
  if (p === null || p === undefined) return h("span", {}, "no churn model");
  const score = Math.max(1, Math.min(100, Math.round(p * 100)));
  return h("span", { class: "band " + band(p), "data-risk": score }, `${score} · ${band(p)}`);
}
function trend(now, before) {
  if (now === null || now === undefined || before === null || before === undefined) return "–";
  const change = 100 * (now - before);  // in points of the 1–100 risk
  if (Math.abs(change) < 0.05) return h("span", { class: "steady" }, "= steady");
  const shown = change.toFixed(Math.abs(change) < 10 ? 1 : 0);
  return h("span", { class: change > 0 ? "up" : "down", title: `${(100 * before).toFixed(1)} a week ago` },
    `${change > 0 ? "▲ +" : "▼ "}${shown}`);
}
function chart(svg, id) { const div = h("div", { class: "chart", id }); div.innerHTML = svg || ""; return div; }
function table(id, head, rows) {
  return h("div", { class: "scroll" }, h("table", { id }, h("thead", {}, h("tr", {}, head.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c ?? "–")))))));
}
function num(v, digits = 1) { return v === null || v === undefined ? "–" : Number(v).toLocaleString(undefined, { maximumFractionDigits: digits }); }
function flags(list) { return (list || []).map((f) => h("span", { class: "flag" }, f.replace(/-/g, " "))); }
function when(iso) { return iso ? new Date(iso).toLocaleString() : "?"; }

function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));  // a card left out, not "null"
}

function refusal(error) {
  const text = error.status === 403 ? "Your key's role may not open this page." : error.message;
  return h("p", { class: "error", role: "alert", id: "refused" }, text);
}

async function worklistPage() {
  const list = await api("/worklist?limit=200");
  const ids = [...new Set(list.entries.map((e) => e.customer_id))];
  const asked = JSON.stringify({ customer_ids: ids });
  const [scored, trended] = ids.length ? await Promise.all([api("/score", { method: "POST", body: asked }), api("/worklist/trends", { method: "POST", body: asked })])
    : [{ results: [] }, { week_ago: {} }];
  const scores = Object.fromEntries(scored.results.map((s) => [s.customer_id, s]));
  const trends = trended.week_ago;
  const teams = [...new Set(list.entries.map((e) => e.team))].sort();
  const allFlags = [...new Set(scored.results.flatMap((s) => s.flags))].sort();
  const team = h("select", { id: "team" }, h("option", { value: "" }, "all teams"), teams.map((t) => h("option", { value: t }, t)));
  const flag = h("select", { id: "flag" }, h("option", { value: "" }, "any flag"), allFlags.map((f) => h("option", { value: f }, f)));
  const body = h("tbody");
  const render = () => {
    const rows = list.entries.filter((e) => (!team.value || e.team === team.value)
      && (!flag.value || (scores[e.customer_id]?.flags || []).includes(flag.value)));
    body.replaceChildren(...rows.map((e) => {
      const s = scores[e.customer_id];
      const mark = h("button", { type: "button", class: "handled", onclick: async () => {
        await api("/worklist/handled", { method: "POST", body: JSON.stringify({ customer_id: e.customer_id, team: e.team }) });
        list.entries = list.entries.filter((x) => x !== e);
        render();
      } }, "Mark handled");
      return h("tr", { "data-customer": e.customer_id },
        h("td", {}, h("a", { href: "#/customer/" + encodeURIComponent(e.customer_id) }, e.customer_id)),
        h("td", {}, riskBadge(s?.churn?.probability)),
        h("td", { class: "trend" }, trend(s?.churn?.probability, trends[e.customer_id])),
        h("td", {}, e.team), h("td", {}, flags(s?.flags)),
        h("td", {}, h("ul", { class: "reasons" }, (e.reasons.length ? e.reasons : s?.top_reasons || []).map((r) => h("li", {}, r)))),
        h("td", {}, mark));
    }));
    if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 7 }, "Nobody to contact now.")));
  };
  team.addEventListener("change", render);
  flag.addEventListener("change", render);
  render();
  show(h("h1", {}, "Who to contact first"),
    h("div", { class: "filters" }, h("label", {}, "Team ", team), h("label", {}, "Flag ", flag)),
    h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ["Customer", "Risk", "Since last week", "Team", "Flags", "Why", ""].map((t) => h("th", { scope: "col" }, t)))), body));
}

function timelineItem(event) {
  const text = event.text || event.details.text || event.details.comment;
  return h("li", { "data-table": event.table }, h("time", { datetime: event.at }, when(event.at)),
    event.title, text ? h("blockquote", {}, text) : null);
}

function scoresCard(s) {
  const churn = s.churn;
  const reasons = churn ? churn.reasons.filter((r) => r.log_odds > 0).map((r) => r.sentence) : [];
  return h("section", { class: "card", id: "scores" },
    h("h2", {}, "Churn risk"), riskBadge(churn?.probability),
    churn ? h("p", {}, `within ${churn.horizon_days} days`) : null,
    h("h3", {}, "Why"), h("ul", { class: "reasons" }, (reasons.length ? reasons : s.top_reasons).map((r) => h("li", {}, r))),
    h("h3", {}, "Predicted satisfaction"),
    h("ul", {}, Object.entries(s.metrics).map(([m, v]) => h("li", {}, `${m.toUpperCase()} ${v.score.toFixed(1)} (negative side: ${Math.round(v.negative * 100)}%)`))),
    h("p", {}, flags(s.flags)),
    s.freshness ? h("p", { id: "as-of" }, "as of " + when(s.freshness.as_of)) : null);
}

function historyCard(history) {
  return h("section", { class: "card", id: "history" }, h("h2", {}, "Over the last months"),
    chart(history.chart_svg, "history-chart"),
    h("h3", {}, "Why it moved in the last 30 days"),
    h("ul", { class: "reasons", id: "moved" }, history.why.length ? history.why.map((r) => h("li", {}, r)) : h("li", {}, "Nothing moved it much.")));
}

async function customerPage(id) {
  let last = "", history = null, historyOf = "";
  const draw = async () => {
    const [s, t] = await Promise.all([api("/customers/" + encodeURIComponent(id)), api("/timeline?customer_id=" + encodeURIComponent(id))]);
    const stamp = JSON.stringify([s, t.events.length, t.handled.length]);
    if (stamp === last) return;
    last = stamp;
    if (historyOf !== JSON.stringify(s.freshness)) {  // the history moves only when the customer's row does
      history = await api("/history?customer_id=" + encodeURIComponent(id));
      historyOf = JSON.stringify(s.freshness);
    }
    const handled = t.handled.map((x) => h("li", {}, `handled by ${x.by} for ${x.team}, ${when(new Date(x.at * 1000).toISOString())}`));
    const mark = h("button", { type: "button", class: "handled", onclick: async () => {
      await api("/worklist/handled", { method: "POST", body: JSON.stringify({ customer_id: id }) });
      last = ""; await draw();
    } }, "Mark handled");
    show(h("h1", {}, "Customer " + id),
      h("div", { class: "columns" },
        h("section", { class: "card" }, h("h2", {}, "Touchpoints"),
          h("ol", { class: "timeline", id: "timeline" }, t.events.slice().reverse().map(timelineItem))),
        h("div", {}, scoresCard(s), historyCard(history), h("section", { class: "card" }, mark, h("ul", { id: "handled" }, handled)))));
  };
  await draw();
  timer = setInterval(() => draw().catch(() => {}), POLL_MS);
}

function healthCard(health) {
  const models = (health.models || []).map((m) => [m.model, m.version, m.drifted_share === null || m.drifted_share === undefined ? "–" : Math.round(100 * m.drifted_share) + "%", num(m.drifted_features, 0)]);
  return h("section", { class: "card", id: "health" }, h("h2", {}, "Model health"),
    h("p", {}, health.verdict ? h("strong", { class: "verdict " + health.verdict }, health.verdict) : null, " ", health.summary || "", health.at ? ` (${when(health.at)})` : ""),
    models.length ? table("health-models", ["Model", "Version", "Drifted share", "Drifted features"], models) : null);
}

function baseCards(base, surveyed) {
  if (!base) return [h("section", { class: "card", id: "base" }, h("p", {}, "No report on this workspace yet: run ", h("code", {}, "cxpredict report WORKSPACE --out WORKSPACE/report"), " for the whole base's corrected figures, drivers and what-ifs.")),
    surveyed.chart_svg ? h("section", { class: "card" }, h("h2", {}, "Over time"), chart(surveyed.chart_svg, "surveyed"),
      h("p", {}, `Surveyed: every answer of the month. Predicted: ${surveyed.predicted?.customers ?? 0} customers evenly sampled, scored from their events at each moment by the models in service.`)) : null];
  const figures = base.figures.map((f) => [f.label, num(f.respondents), num(f.model), h("strong", {}, num(f.corrected)),
    f.interval ? `${num(f.interval[0])} – ${num(f.interval[1])}` : "–", `${num(f.n_respondents, 0)} of ${num(f.customers, 0)}`,
    f.response && f.response.rate !== undefined ? Math.round(1000 * f.response.rate) / 10 + "%" : "–"]);
  const ahead = (w) => (w.ahead_of_next === true ? "yes" : w.ahead_of_next === false ? "not told apart" : "–");
  const worth = (base.driver_worth || []).map((w) => [num(w.rank, 0), w.description, num(w.nps_change),
    w.nps_change_interval ? `${num(w.nps_change_interval[0])} – ${num(w.nps_change_interval[1])}` : "–", ahead(w),
    num(w.churners_change), num(w.revenue_kept, 0)]);
  const whatIf = base.what_if.map((w) => [w.description, num(w.nps), num(w.nps_after), num(w.churners), num(w.churners_after), num(w.revenue_kept, 0)]);
  return [
    h("section", { class: "card", id: "base" }, h("h2", {}, "The whole base, three ways"),
      h("p", {}, `As of ${when(base.as_of)}; answers of the last ${base.window?.days ?? "?"} days correct the models' figure (95% interval).`),
      table("figures", ["Figure", "Respondents", "Model", "Corrected", "95% interval", "Answered", "Response rate"], figures),
      chart(base.figures_svg, "figures-chart")),
    surveyed.chart_svg ? h("section", { class: "card" }, h("h2", {}, "Over time"), chart(surveyed.chart_svg, "surveyed"),
      h("p", {}, `Surveyed: every answer of the month. Predicted: ${surveyed.predicted?.customers ?? 0} customers evenly sampled, scored from their events at each moment by the models in service.`)) : null,
    h("section", { class: "card" }, h("h2", {}, "By segment"), h("div", { class: "grid" }, Object.entries(base.segments_svg).map(([name, svg]) => h("div", {}, h("h3", {}, name), chart(svg))))),
    worth.length ? h("section", { class: "card" }, h("h2", {}, "What fixing each driver is worth"),
      table("driver-worth", ["Rank", "Driver undone", "NPS change", "95% interval", "Ahead of the next", "Churners change", "Revenue kept"], worth),
      h("p", {}, "The interval: the NPS model refitted on halves of the customers. ‘Not told apart’: the answers cannot say this driver is worth more than the next.")) : null,
    h("section", { class: "card" }, h("h2", {}, "Top drivers"), chart(base.drivers_svg, "drivers")),
    h("section", { class: "card" }, h("h2", {}, "Text themes"), base.themes_svg ? chart(base.themes_svg, "themes") : h("p", {}, "No text theme raises risk across the base in this report.")),
    h("section", { class: "card" }, h("h2", {}, "What if"), table("what-if", ["Scenario", "NPS", "NPS after", "Churners", "Churners after", "Revenue kept"], whatIf)),
  ];
}

function riskCard(o) {
  if (o.expected_churners === null || o.expected_churners === undefined) {  // no churn model in service
    return h("section", { class: "card", id: "at-risk" }, h("p", {}, `${num(o.customers, 0)} customers scored. `,
      "No churn model in service: churn risk needs a churn table in the workspace and ", h("code", {}, "cxpredict train"), "."));
  }
  const share = o.customers ? Math.round(100 * o.at_risk / o.customers) : 0;
  return h("section", { class: "card", id: "at-risk" }, h("p", {}, `${num(o.customers, 0)} customers scored; `,
      h("strong", {}, `${num(o.at_risk, 0)} (${share}%)`),
      ` at high churn risk (≥ ${Math.round(o.risk_threshold * 100)}%).`),
    h("p", {}, `Expected churners within ${o.horizon_days ?? "?"} days: `, h("strong", { id: "churners" }, num(o.expected_churners)),
      o.revenue_at_risk !== null ? [`; revenue at risk (${o.value_column}): `, h("strong", { id: "revenue" }, num(o.revenue_at_risk, 0))] : ""),
    h("p", {}, Object.entries(o.bands).map(([b, n]) => h("span", { class: "band " + b }, `${b}: ${n}`))));
}

async function overviewPage() {
  const o = await api("/overview");
  const churn = o.expected_churners !== null && o.expected_churners !== undefined;
  show(h("h1", {}, "Overview"), riskCard(o),
    healthCard(o.health),
    ...baseCards(o.base, o.surveyed),
    churn ? h("section", { class: "card" }, h("h2", {}, "Churn risk distribution"), chart(o.chart_svg, "distribution")) : null,
    churn ? h("section", { class: "card" }, h("h2", {}, "Top reasons"), chart(o.reasons_svg, "reasons")) : null);
}

async function modelsPage() {
  const m = await api("/models");
  const rows = m.models.flatMap((model) => model.versions.map((v) => [model.name, h("span", { class: "role " + v.role }, v.alias ? `${v.role} (@${v.alias})` : v.role),
    v.version, when(v.trained_at), Object.entries(v.metrics).map(([k, x]) => `${k} ${x}`).join(" · ") || "–",
    v.run_url ? h("a", { href: v.run_url }, "MLflow run") : "–"]));
  const holdoutCharts = m.models.flatMap((model) => model.versions.flatMap((v) => Object.entries(v.calibration_svg || {}).map(([risk, svg]) =>
    h("div", { class: "inline" }, h("h3", {}, `${model.name} v${v.version} (${v.role}): ${risk}`), chart(svg, `holdout-${model.kind}-${v.version}-${risk}`)))));
  show(h("h1", {}, "Models"),
    h("section", { class: "card", id: "models" }, h("p", {}, "Serving: ", Object.entries(m.serving).map(([n, v]) => `${n} v${v}`).join(", ")),
      Object.keys(m.shadow || {}).length ? h("p", { id: "shadow" }, "In shadow (scored, never served): ", Object.entries(m.shadow).map(([n, v]) => `${n} v${v}`).join(", ")) : "",
      table("versions", ["Model", "Role", "Version", "Trained", "Holdout metrics", "Run"], rows)),
    healthCard(m.health),
    h("section", { class: "card", id: "holdout-calibration" }, h("h2", {}, "Calibration on each version's holdout (predicted vs observed rate)"),
      holdoutCharts.length ? holdoutCharts : h("p", {}, "No version here logged its holdout curves: train again with this version of cxpredict.")),
    h("section", { class: "card" }, h("h2", {}, "Calibration on the report's answers (predicted vs observed negative share)"),
      Object.keys(m.calibration).length ? Object.entries(m.calibration).map(([metric, svg]) => h("div", { class: "inline" }, h("h3", {}, metric), chart(svg, "calibration-" + metric)))
        : h("p", {}, "No report yet: run cxpredict report for calibration plots.")));
}

async function rulesPage() {
  const r = await api("/rules");
  show(h("h1", {}, "Rules"), h("section", { class: "card", id: "rules" },
    h("p", {}, `${r.rules} rules in force from ${r.path}, loaded ${r.loaded_at || "never"}.`),
    r.error ? h("div", { class: "error", role: "alert", id: "rules-error" }, h("p", {}, "The file cannot be used now; the last good rules apply."),
      r.problems.length ? h("ul", {}, r.problems.map((p) => h("li", {}, h("strong", {}, `line ${p.line}, column ${p.column}: `), p.message,
        h("pre", {}, p.text + "\n" + " ".repeat(Math.max(p.column - 1, 0)) + "^")))) : h("p", {}, r.error)) : null,
    h("ul", {}, Object.entries(r.unevaluated).map(([n, why]) => h("li", {}, `${n} could not be evaluated: ${why}`)))),
    h("section", { class: "card" }, h("h2", {}, "Rules in force"),
      table("active", ["Rule", "Last fired", "Its deliveries"], r.active.map((n) => [n, r.last_fired[n] ? when(r.last_fired[n]) : "never",
        Object.entries(r.deliveries_by_rule[n] || {}).map(([status, k]) => `${status}: ${k}`).join(" · ") || "none"]))),
    h("section", { class: "card" }, h("h2", {}, "Deliveries"),
      h("p", { id: "deliveries" }, Object.entries(r.deliveries).map(([status, n]) => `${status}: ${n}`).join(" · "))));
}

async function route() {
  clearInterval(timer);
  const [, page, id] = (location.hash || "#/worklist").split("/");
  document.querySelectorAll("#nav a").forEach((a) => { if (a.dataset.page === page) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current"); });
  try {
    if (page === "customer" && id) await customerPage(decodeURIComponent(id));
    else if (page === "overview") await overviewPage();
    else if (page === "rules") await rulesPage();
    else if (page === "models") await modelsPage();
    else await worklistPage();
  } catch (error) {
    if (error.status === 401) return logout();
    show(refusal(error));
  }
  document.getElementById("main").focus();
}

async function login(key) {
  sessionStorage.setItem(KEY, key);
  try {
    me = await api("/me");
  } catch (error) {
    sessionStorage.removeItem(KEY);
    throw error;
  }
  document.getElementById("login").hidden = true;
  const nav = document.getElementById("nav");
  nav.hidden = false;
  nav.querySelectorAll("[data-page]").forEach((n) => { n.hidden = !me.may.includes(n.dataset.page); });
  document.getElementById("who").textContent = `${me.name} (${me.role})`;
  await route();
}

function logout() {
  sessionStorage.removeItem(KEY);
  clearInterval(timer);
  document.getElementById("nav").hidden = true;
  show();
  document.getElementById("login").hidden = false;
  document.getElementById("key").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await login(document.getElementById("key").value);
    } catch (error) {
      document.getElementById("login-error").textContent = error.status === 401 ? "This key is not known." : error.message;
    }
  });
  document.getElementById("logout").addEventListener("click", logout);
  document.getElementById("reload").addEventListener("click", async () => {
    const done = await api("/admin/reload", { method: "POST" });
    alert("Serving " + JSON.stringify(done));
  });
  // "#main" (the skip link) is a place on this page, not a page: only "#/..." routes
  window.addEventListener("hashchange", () => me && (!location.hash || location.hash.startsWith("#/")) && route());
  if (sessionStorage.getItem(KEY)) login(sessionStorage.getItem(KEY)).catch(logout);
  else logout();
});
