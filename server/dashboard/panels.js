// panels.js - one render function per dashboard panel.  Each takes the panel's
// body element and the view ({forum, go}) and fills it from the API, throwing
// ApiError when the server refuses.  Charts come from Chart.js (window.Chart),
// the network view from Cytoscape.js (window.cytoscape), both served locally.

import { get, forumPath } from "./api.js";

const PALETTE = ["#2f6fd6", "#d6552f", "#2a9d5c", "#8e44ad", "#c9a227", "#1b9aaa",
                 "#d63a7a", "#6b8e23", "#7f5539", "#5c677d"];
const color = (i) => PALETTE[i % PALETTE.length];

// ---- small helpers --------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

export function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en");
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.001 || a >= 1e6)) return v.toExponential(3);
  return v.toLocaleString("en", { maximumSignificantDigits: 4 });
}

function facts(pairs) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of pairs) dl.append(el("dt", { text: k }), el("dd", { text: fmt(v) }));
  return dl;
}

function memberLink(view, extId) {
  return el("a", { href: view.memberHref(extId), text: extId });
}

// A Chart.js chart in a fixed-height box; animation off so it is drawn at once.
function chart(body, config) {
  const canvas = el("canvas");
  body.append(el("div", { class: "chart" }, canvas));
  config.options = Object.assign({ animation: false, responsive: true,
                                   maintainAspectRatio: false }, config.options || {});
  return new window.Chart(canvas, config);
}

function date(s) {
  return s ? s.slice(0, 10) : "–";
}

// ---- summary ----------------------------------------------------------------------

export async function summary(body, view) {
  const [doc, forum] = await Promise.all([get(forumPath(view.forum, "summary")),
                                          get(forumPath(view.forum))]);
  const s = doc.summary;
  body.append(facts([
    ["source", forum.source], ["time zone", forum.timezone],
    ["posts", s.posts], ["threads", s.threads], ["boards", s.boards],
    ["members", s.members], ["posting members", s.posting_members],
    ["first post", date(s.first_post_at)], ["last post", date(s.last_post_at)],
    ["reply network", `${fmt(s.reply_graph_vertices)} members, ${fmt(s.reply_graph_edges)} edges`],
    ["replies", s.reply_graph_weight],
    ["run", `#${doc.run.id} finished ${date(doc.run.finished_at)}${doc.run.stale ? " (stale: data changed since)" : ""}`],
  ]));
}

// ---- key-player table ---------------------------------------------------------------

const TABLE_COLUMNS = [
  ["composite_rank", "rank"], ["ext_id", "member"], ["status", "status"], ["posts", "posts"],
  ["in_degree", "in-deg"], ["out_degree", "out-deg"], ["pagerank", "PageRank"],
  ["betweenness", "betweenness"], ["harmonic", "harmonic"], ["eigenvector", "eigenvector"],
  ["coreness", "core"], ["constraint", "constraint"], ["community", "comm."],
];
// Fields whose natural order is ascending (a rank, a label); the rest sort high first.
const ASCENDING = new Set(["composite_rank", "ext_id", "constraint", "community"]);
const PAGE = 20;

export async function keyplayerTable(body, view) {
  const state = { sort: "composite_rank", offset: 0 };
  const table = el("table");
  const pager = el("div", { class: "pager" });
  body.append(el("p", { class: "note", text: "Members by composite rank; click a column to sort by it (again to reverse)." }),
              table, pager);

  async function load() {
    const doc = await get(forumPath(view.forum, "members"),
                          { sort: state.sort, limit: PAGE, offset: state.offset });
    const head = el("tr");
    const key = state.sort.replace(/^-/, "");
    for (const [field, label] of TABLE_COLUMNS) {
      if (field === "status") { head.append(el("th", { class: "text", text: label })); continue; }
      const th = el("th", { class: "sortable" + (field === "ext_id" ? " text" : ""), text: label,
                            "data-sort": field, title: `sort by ${field}` });
      if (field === key) th.classList.add("sorted", state.sort.startsWith("-") ? "desc" : "asc");
      th.addEventListener("click", () => {
        const natural = ASCENDING.has(field) ? field : `-${field}`;
        const flipped = natural.startsWith("-") ? field : `-${field}`;
        state.sort = state.sort === natural ? flipped : natural;
        state.offset = 0;
        load().catch(view.fail);
      });
      head.append(th);
    }
    const rows = doc.items.map((m) => el("tr", {}, ...TABLE_COLUMNS.map(([field]) =>
      field === "ext_id" ? el("td", { class: "text" }, memberLink(view, m.ext_id))
                         : el("td", { class: field === "status" ? "text" : "", text: fmt(m[field]) }))));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
    const last = Math.min(doc.offset + doc.items.length, doc.total);
    pager.replaceChildren(
      el("button", { type: "button", text: "‹ previous", ...(doc.offset === 0 ? { disabled: "" } : {}),
                     onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load().catch(view.fail); } }),
      el("span", { class: "range", text: `${fmt(doc.offset + 1)}–${fmt(last)} of ${fmt(doc.total)} (sort ${doc.sort})` }),
      el("button", { type: "button", text: "next ›", ...(last >= doc.total ? { disabled: "" } : {}),
                     onclick: () => { state.offset += PAGE; load().catch(view.fail); } }));
  }
  await load();
}

// ---- KPP sets ---------------------------------------------------------------------

export async function kppSets(body, view) {
  const [neg, pos] = await Promise.all(["kpp_neg", "kpp_pos"].map((method) =>
    get(forumPath(view.forum, "keyplayers"), { method, limit: 20 })));
  const column = (doc, title, what) => el("div", {},
    el("h3", { text: title }),
    el("p", { class: "note", text: `${what}: ${fmt(doc.set.objective_base)} intact → ${fmt(doc.set.objective)} (k = ${doc.set.k})` }),
    el("ol", { class: "players" }, ...doc.items.map((x) =>
      el("li", {}, memberLink(view, x.member.ext_id), ` (${x.member.status ?? "–"}), gain ${fmt(x.gain)}`))));
  body.append(el("div", { class: "columns" },
    column(neg, "KPP-Neg: removal fragments most", "fragmentation F"),
    column(pos, "KPP-Pos: reach most in 2 steps", "reach")));
}

// ---- disruption -------------------------------------------------------------------

export async function disruption(body, view) {
  const doc = await get(forumPath(view.forum, "disruption"));
  const datasets = [];
  doc.strategies.forEach((s, i) => {
    const pts = s.curve.map((c) => ({ x: c.removed, y: c.lcc_share }));
    datasets.push({ label: `${s.strategy} (R = ${fmt(s.robustness)})`, data: pts,
                    borderColor: color(i), backgroundColor: color(i), pointRadius: 0,
                    borderWidth: 2, fill: false });
    if (s.strategy === "random") {
      const band = (sign) => s.curve.map((c) => ({ x: c.removed, y: c.lcc_share + sign * (c.lcc_share_sd || 0) }));
      datasets.push({ label: "random ± sd", data: band(1), borderWidth: 0, pointRadius: 0,
                      backgroundColor: "rgba(92,103,125,0.25)", fill: "+1" });
      datasets.push({ label: "random − sd", data: band(-1), borderWidth: 0, pointRadius: 0, fill: false });
    }
  });
  body.append(el("p", { class: "note", text: `Share of the reply network in its largest component as members are removed, ${doc.grid.repetitions} random repetitions; lower robustness R = more damaging.` }));
  chart(body, {
    type: "line", data: { datasets },
    options: {
      parsing: true,
      scales: { x: { type: "linear", title: { display: true, text: "members removed" } },
                y: { min: 0, max: 1, title: { display: true, text: "largest component share" } } },
      plugins: { legend: { labels: { filter: (item) => item.text !== "random − sd" } } },
    },
  });
}

// ---- communities ------------------------------------------------------------------

export async function communities(body, view) {
  const doc = await get(forumPath(view.forum, "communities"), { limit: 15 });
  body.append(el("p", { class: "note", text: `${fmt(doc.total)} communities (Leiden, modularity objective, resolution ${fmt(doc.resolution)}), modularity ${fmt(doc.modularity)}.` }));
  chart(body, {
    type: "bar",
    data: { labels: doc.items.map((c) => `#${c.community}`),
            datasets: [{ label: "members", data: doc.items.map((c) => c.size), backgroundColor: doc.items.map((c) => color(c.community)) }] },
    options: { plugins: { legend: { display: false } } },
  });
  const rows = doc.items.slice(0, 8).map((c) => el("tr", {},
    el("td", { text: `#${c.community}` }), el("td", { text: fmt(c.size) }),
    el("td", { text: fmt(c.internal_weight / (c.total_weight || 1)) }),
    el("td", { class: "text" }, ...c.top_members.slice(0, 5).flatMap((m, i) => [i ? ", " : "", memberLink(view, m.ext_id)]))));
  body.append(el("table", {}, el("thead", {}, el("tr", {},
    el("th", { text: "community" }), el("th", { text: "size" }), el("th", { text: "internal share" }),
    el("th", { class: "text", text: "top members" }))), el("tbody", {}, ...rows)));
}

// ---- network view -----------------------------------------------------------------

export async function network(body, view) {
  const doc = await get(forumPath(view.forum, "graph"), { format: "cytoscape", limit: 150 });
  const nodes = doc.elements.nodes;
  body.append(el("p", { class: "note", text: `The ${fmt(nodes.length)} members best by composite rank (of ${fmt(doc.network_members)} in the reply network) and the ${fmt(doc.elements.edges.length)} reply edges among them; colour = community, size = PageRank. Click a member to open it.` }));
  const box = el("div", { class: "network", id: "cy" });
  body.append(box);
  const maxPr = Math.max(...nodes.map((n) => n.data.pagerank || 0), 1e-12);
  const cy = window.cytoscape({
    container: box,
    elements: doc.elements,
    style: [
      { selector: "node", style: {
        "background-color": (n) => color(n.data("community") ?? 9),
        width: (n) => 8 + 32 * Math.sqrt((n.data("pagerank") || 0) / maxPr),
        height: (n) => 8 + 32 * Math.sqrt((n.data("pagerank") || 0) / maxPr),
        label: (n) => (n.data("composite_rank") <= 10 ? n.data("id") : ""),
        "font-size": 9 } },
      { selector: "edge", style: {
        width: (e) => Math.min(1 + Math.log2(e.data("weight") || 1), 5),
        "line-color": "#b8bfcc", "curve-style": "haystack", opacity: 0.6 } },
    ],
    layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 8000, numIter: 250 },
  });
  cy.on("tap", "node", (e) => { location.hash = view.memberHref(e.target.id()).slice(1); });
  box.dataset.nodes = String(cy.nodes().length);
  view.keep(cy);
}

// ---- activity: heat map and hour-of-day profile ---------------------------------------

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

export async function heatmap(body, view) {
  const doc = await get(forumPath(view.forum, "activity", "heatmap"));
  const max = Math.max(...doc.days.flatMap((d) => d.hours.map((h) => h.mean || 0)), 1e-12);
  const head = el("tr", {}, el("th"), ...Array.from({ length: 24 }, (_, h) => el("th", { text: h % 3 ? "" : String(h) })));
  const rows = doc.days.map((d, i) => el("tr", {}, el("th", { text: DAYS[i] }), ...d.hours.map((h, hr) => {
    const v = h.mean || 0;
    return el("td", { title: `${d.day} ${hr}:00 — mean ${fmt(h.mean)} ${doc.measure} per hour (median ${fmt(h.median)}, n = ${h.n})`,
                      "data-mean": String(h.mean ?? ""),
                      style: `background: rgba(47,111,214,${(0.05 + 0.95 * v / max).toFixed(3)})` });
  })));
  body.append(el("p", { class: "note", text: `Mean ${doc.measure} per local hour (${doc.zone}), weekday × hour of day, over ${fmt(doc.periods)} hours.` }),
              el("table", { class: "heatmap" }, el("thead", {}, head), el("tbody", {}, ...rows)));
}

export async function hourProfile(body, view) {
  const doc = await get(forumPath(view.forum, "activity", "profile"), { kind: "hour_of_day" });
  const labels = doc.slots.map((s) => String(s.hour));
  chart(body, {
    type: "line",
    data: { labels, datasets: [
      { label: "mean", data: doc.slots.map((s) => s.mean), borderColor: color(0), backgroundColor: color(0), pointRadius: 2 },
      { label: "interquartile range", data: doc.slots.map((s) => s.q3), borderWidth: 0, pointRadius: 0,
        backgroundColor: "rgba(47,111,214,0.18)", fill: "+1" },
      { label: "lower quartile", data: doc.slots.map((s) => s.q1), borderWidth: 0, pointRadius: 0, fill: false },
      { label: "median", data: doc.slots.map((s) => s.median), borderColor: color(1), borderDash: [4, 3], pointRadius: 0 },
    ] },
    options: { scales: { x: { title: { display: true, text: `local hour (${doc.zone})` } },
                         y: { beginAtZero: true, title: { display: true, text: `${doc.measure} per hour` } } },
               plugins: { legend: { labels: { filter: (item) => item.text !== "lower quartile" } } } },
  });
  body.prepend(el("p", { class: "note", text: `Mean and median ${doc.measure} per hour of the local day, with the interquartile band, over ${fmt(doc.periods)} hours.` }));
}

// ---- survival ---------------------------------------------------------------------

export async function survival(body, view) {
  // by trajectory group (the latest run's, issue 4) when some run computed them, else by status
  const by = view.analyses.has("trajectories") ? "trajectory" : "status";
  const doc = await get(forumPath(view.forum, "survival", "members"), { group_by: by });
  const groups = doc.groups && doc.groups.length ? doc.groups : [Object.assign({ label: "all" }, doc.all)];
  const shown = groups.filter((g) => g.curve && g.curve.length).sort((a, b) => b.n - a.n).slice(0, 8);
  const datasets = shown.map((g, i) => ({
    label: `${g.name ? `${g.label}. ${g.name}` : g.label} (n = ${fmt(g.n)})`, stepped: true, pointRadius: 0, borderWidth: 2,
    borderColor: color(i), backgroundColor: color(i),
    data: [{ x: 0, y: 1 }, ...g.curve.map((r) => ({ x: r.time, y: r.surv }))],
  }));
  const lr = doc.logrank;
  body.append(el("p", { class: "note", text: `Kaplan–Meier: share of members not yet gone (${doc.params.event}, ${doc.params.silence_days} days of silence) by days since ${doc.params.origin}, by ${by === "trajectory" ? "trajectory group" : by}${lr ? `; log-rank χ² = ${fmt(lr.chisq)}, p = ${fmt(lr.p)}` : ""}.` }));
  chart(body, {
    type: "line", data: { datasets },
    options: { scales: { x: { type: "linear", title: { display: true, text: "days" } },
                         y: { min: 0, max: 1, title: { display: true, text: "survival" } } } },
  });
}

// ---- trajectories -------------------------------------------------------------------

export async function trajectories(body, view) {
  const doc = await get(forumPath(view.forum, "trajectories"));
  const groups = doc.groups || [];
  const datasets = [];
  groups.forEach((g, i) => {
    // GET .../trajectories (api-docs/trajectories.md): curve.lambda/lower/upper, one value per period
    const label = `${g.group}. ${g.label || "group"}`;
    const c = g.curve || { lambda: [], lower: [], upper: [] };
    const pts = (ys) => ys.map((y, t) => ({ x: t, y }));
    datasets.push({ label: `${label} (${fmt(100 * g.pi)} %)`, data: pts(c.lambda),
                    borderColor: color(i), backgroundColor: color(i), pointRadius: 0, borderWidth: 2 });
    if (c.upper.some((u) => u !== null && u !== undefined)) {
      datasets.push({ label: `${label} upper`, data: pts(c.upper), borderWidth: 0,
                      pointRadius: 0, backgroundColor: color(i) + "33", fill: "+1" });
      datasets.push({ label: `${label} lower`, data: pts(c.lower), borderWidth: 0,
                      pointRadius: 0, fill: false });
    }
  });
  body.append(el("p", { class: "note", text: `${groups.length} trajectory groups: expected posts per period with their confidence band; shares of members in the legend.` }));
  chart(body, {
    type: "line", data: { datasets },
    options: { scales: { x: { type: "linear", title: { display: true, text: `month since ${doc.analysis ? doc.analysis.first_month : "the first post"}` } },
                         y: { beginAtZero: true, title: { display: true, text: "posts per period" } } },
               plugins: { legend: { labels: { filter: (item) => !/ (upper|lower)$/.test(item.text) } } } },
  });
}

// ---- member page --------------------------------------------------------------------

const MEMBER_METRICS = ["posts", "threads_started", "threads", "boards", "in_degree", "out_degree",
  "in_strength", "out_strength", "pagerank", "betweenness", "closeness", "harmonic", "eigenvector",
  "coreness", "constraint", "effective_size", "clustering", "composite_score"];

export async function member(body, view) {
  const doc = await get(forumPath(view.forum, "members", view.member));
  const m = doc.member;
  const pct = m.composite_pct || {};
  body.append(el("h3", { class: "member-id", text: `member ${m.ext_id}` }),
    facts([["status", m.status], ["registered", date(m.registered_at)], ["banned", m.banned_at ? date(m.banned_at) : "no"],
           ["composite rank", `${fmt(m.composite_rank)} of ${fmt(doc.ranks.of)}`],
           ["in the reply network", m.in_network ? "yes" : "no"], ["community", m.community],
           ["key-player sets", doc.keyplayer_sets.length ? doc.keyplayer_sets.map((s) => `${s.method} #${s.position}`).join(", ") : "none"]]));
  const rows = MEMBER_METRICS.map((k) => el("tr", {}, el("td", { text: k }), el("td", { text: fmt(m[k]) }),
    el("td", { text: doc.ranks[k] ? fmt(doc.ranks[k]) : "–" }),
    el("td", { text: k in pct ? `${fmt(100 * pct[k])} %` : "" })));
  body.append(el("table", { class: "member-metrics" },
    el("thead", {}, el("tr", {}, el("th", { text: "metric" }), el("th", { text: "value" }), el("th", { text: "rank" }),
                      el("th", { text: "percentile (composite)" }))),
    el("tbody", {}, ...rows)));
}

// ---- account linking ---------------------------------------------------------------

const LINK_VIEWS = ["time", "context", "both"];

// GET .../linking/eval (api-docs/linking.md): MRR per episode length, pooled and balanced, and sybils
export async function linkingEval(body, view) {
  const doc = await get(forumPath(view.forum, "linking", "eval"));
  const rows = [];
  const row = (what, pool, e) => {
    const v = e.views || {};
    const both = v.both ? v.both.mrr : null;
    const rnd = e.random ? e.random.mrr : null;
    rows.push(el("tr", { "data-pool": pool, "data-len": String(e.episode_len) },
      el("td", { text: what }), el("td", { text: pool }), el("td", { text: fmt(e.rows) }),
      ...LINK_VIEWS.map((k) => el("td", { class: k === "both" ? "best" : "", text: v[k] ? fmt(v[k].mrr) : "–" })),
      el("td", { text: fmt(rnd) }),
      el("td", { text: both !== null && rnd ? `${fmt(both / rnd)}×` : (e.reason || "–") })));
  };
  for (const e of doc.episodes) row(`${e.episode_len} posts`, "pooled", e);
  for (const e of doc.episodes_balanced || []) row(`${e.episode_len} posts`, "balanced", e);
  if (doc.sybils) row("whole history", "sybils", doc.sybils);
  body.append(el("p", { class: "note", text: "Mean reciprocal rank of finding another episode by the same member, by fingerprint (time only, context only, both; weights fitted on the other half of the members), beside a random order. Balanced: at most two episodes per member. Sybils: members split in two at a random post. Similar accounts are leads for review, never identification." }),
    el("table", { class: "linking-eval" },
      el("thead", {}, el("tr", {}, ...["episode", "pool", "rows", "time", "context", "both", "random", "both ÷ random"].map((t) => el("th", { text: t })))),
      el("tbody", {}, ...rows)));
}

const LINK_COMPONENTS = ["hour_of_week", "gaps", "session", "embedding", "category"];

// GET .../members/{member}/similar: the member's closest accounts, with each component's cosine
export async function similar(body, view) {
  const doc = await get(forumPath(view.forum, "members", view.member, "similar"));
  if (doc.reason) {
    body.append(el("p", { class: "unavailable", text: `No fingerprint for ${doc.member.ext_id}: ${doc.reason}.` }));
    return;
  }
  const rows = doc.items.map((it) => el("tr", {},
    el("td", { text: fmt(it.rank) }), el("td", {}, memberLink(view, it.member.ext_id)),
    el("td", { text: fmt(it.similarity) }),
    ...LINK_COMPONENTS.map((c) => el("td", { text: fmt(it.components[c]) }))));
  body.append(el("p", { class: "note", text: "Cosine similarity of whole posting histories from structure and timing alone, with each component's cosine so you can see why. Shared routines make different people similar: treat these as leads, never identification." }),
    el("table", { class: "similar" },
      el("thead", {}, el("tr", {}, ...["rank", "member", "similarity", ...LINK_COMPONENTS].map((t) => el("th", { text: t })))),
      el("tbody", {}, ...rows)));
}
