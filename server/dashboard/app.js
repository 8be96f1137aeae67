// app.js - the dashboard's shell: the token (sessionStorage or #token=), the
// forum picker, the panels of a forum and the member page, routed by the URL
// fragment (#forum=NAME[&member=EXT_ID]).  A panel whose route this server
// does not have (GET /v1/routes), or whose analysis no completed run of the
// forum computed (GET .../runs), says so instead of asking for it.

import { ApiError, get, hasRoute, loadRoutes, setToken, token } from "./api.js";
import * as P from "./panels.js";

const FORUM_PANELS = [
  { id: "summary", title: "Summary", route: "summary", analysis: "summary", render: P.summary },
  { id: "keyplayers", title: "Key players", route: "members", analysis: "keyplayers", render: P.keyplayerTable, wide: true },
  { id: "kpp", title: "Key-player sets (KPP)", route: "keyplayers", analysis: "keyplayers", render: P.kppSets },
  { id: "disruption", title: "Disruption by strategy", route: "disruption", analysis: "keyplayers", render: P.disruption },
  { id: "communities", title: "Communities", route: "communities", analysis: "keyplayers", render: P.communities },
  { id: "network", title: "Reply network", route: "graph", analysis: "keyplayers", render: P.network, wide: true },
  { id: "trajectories", title: "Trajectory groups", route: "trajectories", analysis: "trajectories", render: P.trajectories },
  { id: "heatmap", title: "Activity heat map", route: "activity/heatmap", render: P.heatmap },
  { id: "profile", title: "Hour-of-day profile", route: "activity/profile", render: P.hourProfile },
  { id: "survival", title: "Member survival by group", route: "survival/members", render: P.survival },
  { id: "linking", title: "Account linking: how far structure and timing go", route: "linking/eval", analysis: "linking", render: P.linkingEval, wide: true },
];
// Panels without an analysis compute per request from the forum's data.
const MEMBER_PANELS = [
  { id: "member", title: "Member", route: "members/{member}", analysis: "keyplayers", render: P.member, wide: true },
  { id: "similar", title: "Similar accounts (leads for review)", route: "members/{member}/similar", analysis: "linking", render: P.similar, wide: true },
];

const $ = (sel) => document.querySelector(sel);
let disposables = [];
let generation = 0;

function status(text, isError = false) {
  $("#status").textContent = text;
  $("#status").classList.toggle("error", isError);
}

function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ""));
}

function hrefFor(params) {
  return "#" + new URLSearchParams(params).toString();
}

// A #token=... fragment goes to sessionStorage and out of the address bar.
function takeTokenFromHash() {
  const h = hashParams();
  if (!h.has("token")) return;
  setToken(h.get("token"));
  h.delete("token");
  history.replaceState(null, "", location.pathname + location.search + (h.toString() ? `#${h}` : ""));
}

function showLogin(message) {
  $("#login").hidden = false;
  $("#logout").hidden = true;
  $("#nav").hidden = true;
  $("#panels").replaceChildren();
  status(message || "", Boolean(message));
  $("#token").focus();
}

function dispose() {
  for (const d of disposables) {
    try { d.destroy(); } catch (e) { /* already gone */ }
  }
  disposables = [];
  for (const canvas of document.querySelectorAll("canvas")) {
    const c = window.Chart.getChart(canvas);
    if (c) c.destroy();
  }
}

// Renders one panel into a new section; resolves when it is done either way.
async function runPanel(panel, view) {
  const body = document.createElement("div");
  body.className = "body";
  const section = document.createElement("section");
  section.className = "panel" + (panel.wide ? " wide" : "");
  section.id = `panel-${panel.id}`;
  section.dataset.panel = panel.id;
  const h2 = document.createElement("h2");
  h2.textContent = panel.title;
  section.append(h2, body);
  $("#panels").append(section);
  const pattern = `/v1/forums/{forum}/${panel.route}`;
  if (!hasRoute(pattern)) {
    section.dataset.state = "unavailable";
    body.append(Object.assign(document.createElement("p"), {
      className: "unavailable",
      textContent: `This analysis is not available on this server (it has no route ${pattern.replace("{member}", "{ext_id}")}).`,
    }));
    return;
  }
  if (panel.analysis && !view.analyses.has(panel.analysis)) {
    section.dataset.state = "empty";
    body.append(Object.assign(document.createElement("p"), {
      className: "unavailable",
      textContent: `No completed analysis run of ${view.forum} has computed this yet: run \`fora recompute --forum ${view.forum}\`.`,
    }));
    return;
  }
  section.dataset.state = "loading";
  const fail = (e) => {
    section.dataset.state = e instanceof ApiError && e.status === 404 && e.detail === "run" ? "empty" : "error";
    const text = section.dataset.state === "empty"
      ? `No completed analysis run has computed this yet: run \`fora recompute --forum ${view.forum}\`.`
      : `Could not load: ${e.message}${e.detail ? ` (${e.detail})` : ""}`;
    body.replaceChildren(Object.assign(document.createElement("p"), { className: section.dataset.state === "empty" ? "unavailable" : "error", textContent: text }));
    if (e instanceof ApiError && e.status === 401) showLogin(`The server refused the token: ${e.message}`);
  };
  const t0 = performance.now();
  try {
    await panel.render(body, Object.assign({}, view, { fail }));
    section.dataset.state = "ready";
  } catch (e) {
    fail(e);
  }
  section.dataset.ms = String(Math.round(performance.now() - t0));
}

async function show() {
  const gen = ++generation;
  dispose();
  $("#panels").replaceChildren();
  const h = hashParams();
  const forum = h.get("forum") || $("#forum").value;
  if (!forum) { status("No forums on this server yet (fora import)."); return; }
  if ($("#forum").value !== forum) $("#forum").value = forum;
  // the analyses some completed run of the forum computed (result routes read the latest such run)
  let analyses;
  try {
    const runs = await get(`/v1/forums/${encodeURIComponent(forum)}/runs`, { status: "completed", limit: 1000 });
    analyses = new Set(runs.items.flatMap((r) => r.analyses || []));
  } catch (e) {
    status(`Could not read the runs of ${forum}: ${e.message}`, true);
    return;
  }
  if (gen !== generation) return;
  const view = {
    forum,
    analyses,
    member: h.get("member"),
    memberHref: (ext) => hrefFor({ forum, member: ext }),
    keep: (d) => disposables.push(d),
  };
  const panels = view.member ? MEMBER_PANELS : FORUM_PANELS;
  const nav = $("#nav");
  nav.hidden = false;
  nav.replaceChildren();
  if (view.member) {
    nav.append(Object.assign(document.createElement("a"), { href: hrefFor({ forum }), textContent: `‹ back to ${forum}` }));
  } else {
    for (const p of panels)
      nav.append(Object.assign(document.createElement("a"), { href: `#panel-${p.id}`, textContent: p.title,
        onclick: (e) => { e.preventDefault(); document.getElementById(`panel-${p.id}`).scrollIntoView(); } }));
  }
  status(`loading ${forum}…`);
  await Promise.all(panels.map((p) => runPanel(p, view)));
  if (gen !== generation) return;
  const states = [...document.querySelectorAll("section.panel")].map((s) => s.dataset.state);
  const ready = states.filter((s) => s === "ready").length;
  status(`${forum}: ${ready} of ${states.length} panels shown`);
  document.body.dataset.ready = "true";
}

async function start() {
  takeTokenFromHash();
  if (!token()) { showLogin(); return; }
  try {
    await loadRoutes();
    const forums = await get("/v1/forums", { limit: 1000 });
    const select = $("#forum");
    select.replaceChildren(...forums.items.map((f) =>
      Object.assign(document.createElement("option"), { value: f.name, textContent: f.name })));
    select.disabled = forums.items.length === 0;
    $("#login").hidden = true;
    $("#logout").hidden = false;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { setToken(null); showLogin(`The server refused the token: ${e.message}`); }
    else status(`Could not reach the API: ${e.message}`, true);
    return;
  }
  await show();
}

$("#login").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken($("#token").value.trim());
  $("#token").value = "";
  start();
});
$("#logout").addEventListener("click", () => { setToken(null); showLogin(); });
$("#forum").addEventListener("change", () => { location.hash = hrefFor({ forum: $("#forum").value }); });
window.addEventListener("hashchange", () => {
  delete document.body.dataset.ready;
  takeTokenFromHash();
  if (token()) show();
});

start();
