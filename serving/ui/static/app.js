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
function flags(list) { return (list || []).map((f) => h("span", { class: "flag" }, f.replace(/-/g, " "))); }
function when(iso) { return iso ? new Date(iso).toLocaleString() : "?"; }

function show(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes);
}

function refusal(error) {
  const text = error.status === 403 ? "Your key's role may not open this page." : error.message;
  return h("p", { class: "error", role: "alert", id: "refused" }, text);
}

async function worklistPage() {
  const list = await api("/worklist?limit=200");
  const ids = [...new Set(list.entries.map((e) => e.customer_id))];
  const scored = ids.length ? await api("/score", { method: "POST", body: JSON.stringify({ customer_ids: ids }) }) : { results: [] };
  const scores = Object.fromEntries(scored.results.map((s) => [s.customer_id, s]));
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
        h("td", {}, e.team), h("td", {}, flags(s?.flags)),
        h("td", {}, h("ul", { class: "reasons" }, (e.reasons.length ? e.reasons : s?.top_reasons || []).map((r) => h("li", {}, r)))),
        h("td", {}, mark));
    }));
    if (!rows.length) body.append(h("tr", {}, h("td", { colspan: 6 }, "Nobody to contact now.")));
  };
  team.addEventListener("change", render);
  flag.addEventListener("change", render);
  render();
  show(h("h1", {}, "Who to contact first"),
    h("div", { class: "filters" }, h("label", {}, "Team ", team), h("label", {}, "Flag ", flag)),
    h("table", { class: "worklist" }, h("thead", {}, h("tr", {}, ["Customer", "Risk", "Team", "Flags", "Why", ""].map((t) => h("th", { scope: "col" }, t)))), body));
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

async function customerPage(id) {
  let last = "";
  const draw = async () => {
    const [s, t] = await Promise.all([api("/customers/" + encodeURIComponent(id)), api("/timeline?customer_id=" + encodeURIComponent(id))]);
    const stamp = JSON.stringify([s, t.events.length, t.handled.length]);
    if (stamp === last) return;
    last = stamp;
    const handled = t.handled.map((x) => h("li", {}, `handled by ${x.by} for ${x.team}, ${when(new Date(x.at * 1000).toISOString())}`));
    const mark = h("button", { type: "button", class: "handled", onclick: async () => {
      await api("/worklist/handled", { method: "POST", body: JSON.stringify({ customer_id: id }) });
      last = ""; await draw();
    } }, "Mark handled");
    show(h("h1", {}, "Customer " + id),
      h("div", { class: "columns" },
        h("section", { class: "card" }, h("h2", {}, "Touchpoints"),
          h("ol", { class: "timeline", id: "timeline" }, t.events.slice().reverse().map(timelineItem))),
        h("div", {}, scoresCard(s), h("section", { class: "card" }, mark, h("ul", { id: "handled" }, handled)))));
  };
  await draw();
  timer = setInterval(() => draw().catch(() => {}), POLL_MS);
}

async function overviewPage() {
  const o = await api("/overview");
  const chart = (svg, id) => { const div = h("div", { class: "chart", id }); div.innerHTML = svg; return div; };
  show(h("h1", {}, "Overview"),
    h("section", { class: "card" }, h("p", {}, `${o.customers} customers scored; `,
      h("strong", {}, `${o.at_risk} (${o.customers ? Math.round(100 * o.at_risk / o.customers) : 0}%)`),
      ` at high churn risk (≥ ${Math.round(o.risk_threshold * 100)}%).`),
    h("p", {}, Object.entries(o.bands).map(([b, n]) => h("span", { class: "band " + b }, `${b}: ${n}`)))),
    h("section", { class: "card" }, h("h2", {}, "Churn risk distribution"), chart(o.chart_svg, "distribution")),
    h("section", { class: "card" }, h("h2", {}, "Top reasons"), chart(o.reasons_svg, "reasons")));
}

async function rulesPage() {
  const r = await api("/rules");
  show(h("h1", {}, "Rules"), h("section", { class: "card", id: "rules" },
    h("p", {}, `${r.rules} rules in force from ${r.path}, loaded ${r.loaded_at || "never"}.`),
    r.error ? h("p", { class: "error", role: "alert" }, "The file cannot be used now: " + r.error) : null,
    h("ul", {}, Object.entries(r.unevaluated).map(([n, why]) => h("li", {}, `${n} could not be evaluated: ${why}`)))),
    h("section", { class: "card" }, h("h2", {}, "Rules in force"),
      h("table", { id: "active" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Rule"), h("th", { scope: "col" }, "Last fired"))),
        h("tbody", {}, r.active.map((n) => h("tr", {}, h("td", {}, n), h("td", {}, r.last_fired[n] ? when(r.last_fired[n]) : "never")))))),
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
  window.addEventListener("hashchange", () => me && route());
  if (sessionStorage.getItem(KEY)) login(sessionStorage.getItem(KEY)).catch(logout);
  else logout();
});
