// tests/integration/dashboard.cjs - drives the dashboard in Debian's headless
// Chromium (playwright-core, installed by the build into BUILD/dashboard) and
// checks every panel against the API's own answers.  Run by
// test_dashboard.sh with FORA_BASE (server URL), FORA_TOKEN, FORA_FORUM,
// FORA_SHOTS (screenshot folder) and FORA_BUILD_DIR.
"use strict";
const path = require("path");
const { createRequire } = require("module");

const need = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set (run through test_dashboard.sh)`);
  return process.env[k];
};
const base = need("FORA_BASE");
const token = need("FORA_TOKEN");
const forum = need("FORA_FORUM");
const shots = need("FORA_SHOTS");
const req = createRequire(path.join(need("FORA_BUILD_DIR"), "dashboard", "node_modules", "x.js"));
const { chromium } = req("playwright-core");

let failures = 0;
let passes = 0;
let lapT = Date.now();
function lap(what) {
  if (process.env.FORA_DASH_TIMES) console.log(`${what}: ${Date.now() - lapT} ms`);
  lapT = Date.now();
}
function check(ok, what) {
  if (ok) passes++;
  else { failures++; console.error(`FAIL: ${what}`); }
}

async function api(route) {
  const r = await fetch(base + route, { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${route}: HTTP ${r.status}`);
  return r.json();
}

// Console errors, page errors, failed requests and HTTP errors of a page.
function watch(page, label) {
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${label} console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`${label} page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`${label} request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`${label} HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

// Whether a canvas has drawn (non-transparent) pixels.
const CANVAS_DRAWN = (c) => {
  const ctx = c.getContext("2d");
  if (!ctx || c.width === 0 || c.height === 0) return false;
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
  return n > 100;
};

async function main() {
  const t0 = Date.now();
  const routes = new Set((await api("/v1/routes")).items.map((r) => r.pattern));
  const f = (p) => `/v1/forums/{forum}/${p}`;
  const members = await api(`/v1/forums/${forum}/members?limit=20`);
  const byPagerank = await api(`/v1/forums/${forum}/members?limit=20&sort=-pagerank`);
  const summary = await api(`/v1/forums/${forum}/summary`);
  const disruption = await api(`/v1/forums/${forum}/disruption`);
  const communities = await api(`/v1/forums/${forum}/communities?limit=15`);
  const graph = await api(`/v1/forums/${forum}/graph?format=cytoscape&limit=150`);
  const top = members.items[0].ext_id;

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const problems = watch(page, "dashboard");

    lap("before 1");
    // 1. without a token the page asks for one; the form takes it
    await page.goto(`${base}/`);
    await page.waitForSelector("#login:not([hidden])");
    check(await page.isVisible("#token"), "the token form is shown without a token");
    await page.fill("#token", token);
    await page.click("#login button[type=submit]");
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    check(await page.evaluate(() => sessionStorage.getItem("fora.token")) === token, "token kept in sessionStorage");
    check(await page.$eval("#forum", (s) => s.value) === forum, "forum picker shows the forum");
    const forums = (await api("/v1/forums")).items.map((x) => x.name);
    check(JSON.stringify(await page.$$eval("#forum option", (os) => os.map((o) => o.value))) === JSON.stringify(forums),
          `forum picker lists ${forums}`);

    lap("before 2");
    // 2. every panel: ready when the server has its route, otherwise says it is not available
    const expected = {
      summary: f("summary"), keyplayers: f("members"), kpp: f("keyplayers"), disruption: f("disruption"),
      communities: f("communities"), network: f("graph"), trajectories: f("trajectories"),
      heatmap: f("activity/heatmap"), profile: f("activity/profile"), survival: f("survival/members"),
      linking: f("linking/eval"),
    };
    const states = await page.$$eval("section.panel", (ss) => Object.fromEntries(ss.map((s) => [s.dataset.panel, s.dataset.state])));
    for (const [id, route] of Object.entries(expected)) {
      if (routes.has(route)) check(states[id] === "ready", `panel ${id} ready (state ${states[id]})`);
      else {
        check(states[id] === "unavailable", `panel ${id} without its route is unavailable (state ${states[id]})`);
        const text = await page.textContent(`#panel-${id}`);
        check(/not available on this server/.test(text), `panel ${id} says it is not available: ${text}`);
        check(await page.$$eval(`#panel-${id} canvas`, (c) => c.length) === 0, `panel ${id} draws no chart`);
      }
    }
    console.log("panel states:", JSON.stringify(states));
    await page.screenshot({ path: path.join(shots, "dashboard.png"), fullPage: true });
    console.log("panel times (ms):", JSON.stringify(await page.$$eval("section.panel", (ss) => Object.fromEntries(ss.map((s) => [s.dataset.panel, Number(s.dataset.ms || 0)])))));

    lap("before 3");
    // 3. summary shows the run's numbers
    const sumText = await page.textContent("#panel-summary");
    check(sumText.includes(summary.summary.posts.toLocaleString("en")), `summary shows ${summary.summary.posts} posts`);
    check(sumText.includes(`#${summary.run.id}`), "summary shows the run");

    lap("before 4");
    // 4. key-player table: the API's first page, sortable through the API, paginated
    const ids = () => page.$$eval("#panel-keyplayers tbody tr td:nth-child(2)", (tds) => tds.map((t) => t.textContent));
    let got = await ids();
    check(got.length === 20, `table has 20 rows (${got.length})`);
    check(JSON.stringify(got) === JSON.stringify(members.items.map((m) => m.ext_id)), "table rows = API composite order");
    await page.click('#panel-keyplayers th[data-sort="pagerank"]');
    await page.waitForSelector('#panel-keyplayers th.sorted[data-sort="pagerank"]');
    got = await ids();
    check(JSON.stringify(got) === JSON.stringify(byPagerank.items.map((m) => m.ext_id)), "sorted by PageRank = API sort=-pagerank");
    check((await page.textContent("#panel-keyplayers .range")).includes("sort -pagerank"), "range shows the sort");
    await page.click('#panel-keyplayers button:has-text("next")');
    await page.waitForFunction(() => document.querySelector("#panel-keyplayers .range").textContent.startsWith("21–40"));
    const second = await api(`/v1/forums/${forum}/members?limit=20&offset=20&sort=-pagerank`);
    check(JSON.stringify(await ids()) === JSON.stringify(second.items.map((m) => m.ext_id)), "page 2 = API offset 20");
    await page.click('#panel-keyplayers th[data-sort="pagerank"]');
    await page.waitForSelector('#panel-keyplayers th.sorted.asc[data-sort="pagerank"]');
    const asc = await api(`/v1/forums/${forum}/members?limit=20&sort=pagerank`);
    check(JSON.stringify(await ids()) === JSON.stringify(asc.items.map((m) => m.ext_id)), "second click reverses (sort=pagerank)");

    lap("before 5");
    // 5. KPP sets: 20 members each, in the API's order
    const kpp = await page.$$eval("#panel-kpp ol", (ols) => ols.map((o) => o.querySelectorAll("li").length));
    check(JSON.stringify(kpp) === "[20,20]", `KPP lists of 20 (${kpp})`);

    lap("before 6");
    // 6. charts drawn with the API's data
    const chartInfo = (id) => page.$$eval(`#panel-${id} canvas`, (cs) => cs.map((c) => {
      const ch = window.Chart.getChart(c);
      return ch ? { datasets: ch.data.datasets.length, points: ch.data.datasets.map((d) => d.data.length) } : null;
    }));
    const drawn = (id) => page.$$eval(`#panel-${id} canvas`, (cs, fn) => cs.map((c) => new Function(`return (${fn})`)()(c)), CANVAS_DRAWN.toString());
    const dis = await chartInfo("disruption");
    check(dis.length === 1 && dis[0].datasets === disruption.strategies.length + 2,
          `disruption: one line per strategy + random band (${JSON.stringify(dis)} vs ${disruption.strategies.length})`);
    check(dis.length === 1 && dis[0].points.every((n) => n === disruption.grid.steps), "disruption curves have every step");
    check((await drawn("disruption")).every(Boolean), "disruption canvas drawn");
    const com = await chartInfo("communities");
    check(com.length === 1 && com[0].points[0] === communities.items.length, "community bars = API communities");
    check((await drawn("communities")).every(Boolean), "communities canvas drawn");
    check((await page.textContent("#panel-communities")).includes(communities.modularity.toLocaleString("en", { maximumSignificantDigits: 4 })), "modularity shown");

    lap("before 7");
    // 7. network view: Cytoscape nodes = the API's elements, drawn
    const nodes = Number(await page.$eval("#cy", (b) => b.dataset.nodes));
    check(nodes > 0 && nodes === graph.elements.nodes.length, `cytoscape nodes ${nodes} = API ${graph.elements.nodes.length}`);
    check((await page.$$eval("#cy canvas", (cs, fn) => cs.map((c) => new Function(`return (${fn})`)()(c)), CANVAS_DRAWN.toString())).some(Boolean),
          "network canvas drawn");

    lap("before 8");
    // 8. the analyses of other modules, when this server has them
    if (routes.has(f("activity/heatmap"))) {
      const cells = await page.$$eval("#panel-heatmap td", (tds) => tds.map((t) => Number(t.dataset.mean || 0)));
      check(cells.length === 168 && cells.some((v) => v > 0), `heat map 7 x 24 with activity (${cells.length})`);
    }
    for (const id of ["profile", "survival", "trajectories"]) {
      if (!routes.has(expected[id])) continue;
      const info = await chartInfo(id);
      check(info.length === 1 && info[0].datasets > 0 && info[0].points.some((n) => n > 0), `${id} chart has data (${JSON.stringify(info)})`);
      check((await drawn(id)).every(Boolean), `${id} canvas drawn`);
    }
    // account linking: one row per (pool, length) and the sybils, the API's MRR in the "both" column
    if (routes.has(expected.linking)) {
      const le = await api(`/v1/forums/${forum}/linking/eval`);
      const lrows = await page.$$eval("#panel-linking tbody tr", (trs) => trs.map((tr) => ({
        pool: tr.dataset.pool, len: Number(tr.dataset.len), cells: [...tr.children].map((td) => td.textContent) })));
      check(lrows.length === le.episodes.length + le.episodes_balanced.length + (le.sybils ? 1 : 0),
            `linking rows ${lrows.length}`);
      const four = (v) => v.toLocaleString("en", { maximumSignificantDigits: 4 });
      for (const [pool, list] of [["pooled", le.episodes], ["balanced", le.episodes_balanced]])
        for (const e of list) {
          const r = lrows.find((x) => x.pool === pool && x.len === e.episode_len);
          check(r && e.views && r.cells[5] === four(e.views.both.mrr) && r.cells[6] === four(e.random.mrr),
                `linking ${pool} L=${e.episode_len}: ${r && r.cells} vs ${e.views && e.views.both.mrr}`);
        }
    }
    check(problems.length === 0, `no console errors or failed requests on the dashboard:\n  ${problems.join("\n  ")}`);

    lap("before 9");
    // 9. member page, opened by a link carrying the token in the fragment (a new tab)
    const mpage = await context.newPage();
    const mproblems = watch(mpage, "member");
    await mpage.goto(`${base}/#token=${encodeURIComponent(token)}&forum=${encodeURIComponent(forum)}&member=${encodeURIComponent(top)}`);
    await mpage.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    check(!mpage.url().includes("token="), `token removed from the address bar (${mpage.url()})`);
    check(await mpage.$eval("#panel-member", (s) => s.dataset.state) === "ready", "member panel ready");
    check((await mpage.textContent("#panel-member h3")) === `member ${top}`, "member page shows the member's ext_id");
    const mdoc = await api(`/v1/forums/${forum}/members/${encodeURIComponent(top)}`);
    const mrows = await mpage.$$eval("#panel-member tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    check(mrows.length === 18, `member metrics rows ${mrows.length}`);
    const pr = mrows.find((r) => r[0] === "pagerank");
    check(pr && pr[2] === String(mdoc.ranks.pagerank) && pr[3].endsWith("%"), `member PageRank rank ${pr} vs ${mdoc.ranks.pagerank}`);
    check((await mpage.textContent("#panel-member")).includes(`${mdoc.member.composite_rank} of ${mdoc.ranks.of.toLocaleString("en")}`), "composite rank of N");
    if (routes.has(f("members/{member}/similar"))) {
      const sim = await api(`/v1/forums/${forum}/members/${encodeURIComponent(top)}/similar`);
      check(await mpage.$eval("#panel-similar", (s) => s.dataset.state) === "ready", "similar-accounts panel ready");
      const slinks = await mpage.$$eval("#panel-similar tbody tr td:nth-child(2) a", (as) => as.map((a) => a.textContent));
      check(slinks.length === sim.items.length && slinks.length > 0 &&
            JSON.stringify(slinks) === JSON.stringify(sim.items.map((it) => it.member.ext_id)),
            `similar accounts = API order (${slinks} vs ${sim.items.map((it) => it.member.ext_id)})`);
    }
    await mpage.screenshot({ path: path.join(shots, "member.png"), fullPage: true });
    // clicking a member in the table opens their page in place
    await page.click(`#panel-keyplayers tbody tr:first-child td:nth-child(2) a`);
    await page.waitForSelector("body[data-ready=true] #panel-member[data-state=ready]", { timeout: 30000 });
    check((await page.textContent("#panel-member h3")) === `member ${asc.items[0].ext_id}`, "table link opens the member page");
    check(mproblems.length === 0 && problems.length === 0, `no console errors on the member pages:\n  ${mproblems.concat(problems).join("\n  ")}`);

    lap("before 10");
    // 10. a forum without a completed run: its run-based panels say so without asking
    // (no 404 in the console); the per-request analyses still show
    const empty = need("FORA_EMPTY_FORUM");
    const epage = await context.newPage();
    const eproblems = watch(epage, "no-run forum");
    await epage.goto(`${base}/#token=${encodeURIComponent(token)}&forum=${encodeURIComponent(empty)}`);
    await epage.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    const estates = await epage.$$eval("section.panel", (ss) => Object.fromEntries(ss.map((s) => [s.dataset.panel, s.dataset.state])));
    console.log("no-run forum panel states:", JSON.stringify(estates));
    for (const id of ["summary", "keyplayers", "kpp", "disruption", "communities", "network", "linking"]) {
      check(estates[id] === "empty", `no-run forum: ${id} empty (${estates[id]})`);
      check((await epage.textContent(`#panel-${id}`)).includes(`fora recompute --forum ${empty}`), `no-run forum: ${id} says to recompute`);
    }
    for (const id of ["heatmap", "profile", "survival"])
      if (routes.has(expected[id])) check(estates[id] === "ready", `no-run forum: ${id} computed per request (${estates[id]})`);
    check(eproblems.length === 0, `no console errors for a forum without a run:\n  ${eproblems.join("\n  ")}`);
    await epage.screenshot({ path: path.join(shots, "no-run-forum.png"), fullPage: true });

    lap("before 11");
    // 11. a bad token: the form comes back with the server's reason
    const bad = await context.newPage();
    await bad.goto(`${base}/#token=fora_bad`);
    await bad.waitForSelector("#login:not([hidden])");
    check(/refused the token/.test(await bad.textContent("#status")), "bad token reported");
  } finally {
    await browser.close();
  }
  console.log(`dashboard: ${passes} passed, ${failures} failed (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
