// Drives Debian's headless Chromium (/usr/bin/chromium) against the
// dashboard of a running nginx with the module, as an operator would:
// the page renders, shows the listed client, explains its detection, its
// Unblock button unblocks it, the Denylist button of its detection lists it
// forever and the duration can be changed afterwards, the add form adds an
// entry, the filters filter. Every change is verified through the JSON API,
// not through the page. The page must not fetch anything from another
// origin (the browser is cut off from everything but the server under test).
//
//   node dashboard.mjs --url http://127.0.0.1:PORT/api-abuse/dashboard \
//        --api http://127.0.0.1:PORT/api-abuse/ --client 192.0.2.71 \
//        [--token TOKEN] [--shots DIR]
//
// Prints one line per check and a JSON summary; exits 1 on the first failure.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const { url, api, client } = args;
const token = args.token || "";
const shots = args.shots || "";
if (!url || !api || !client) {
  console.error("usage: node dashboard.mjs --url DASHBOARD --api API --client ADDR [--token T] [--shots DIR]");
  process.exit(2);
}
const origin = new URL(url).origin;
const auth = token ? { Authorization: "Bearer " + token } : {};

async function apiGet() {
  const r = await fetch(api, { headers: auth });
  if (!r.ok) throw new Error("API GET " + r.status);
  return r.json();
}
const entry = async (addr) => (await apiGet()).lists.find((e) => e.addr === addr);

let step = "start";
const checks = [];
function pass(what) { checks.push(what); console.log("PASS " + what); }
async function until(what, f, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) { pass(what); return v; }
    if (Date.now() > end) throw new Error("timed out: " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const profile = mkdtempSync(join(tmpdir(), "api-abuse-chromium-"));
let ctx;
const foreign = [];
const pageErrors = [];
try {
  step = "launch";
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"],
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    locale: "en-GB",
    timezoneId: "UTC",
  });
  // Offline but for the server under test: anything else is recorded and cut.
  await ctx.route("**/*", (route) => {
    const u = route.request().url();
    if (new URL(u).origin === origin) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // Chromium logs each refused fetch (the 401 before the token is given) as
  // a console error; those are the API answering, not the page failing.
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: .* 401/.test(m.text())) pageErrors.push(m.text());
  });

  step = "render";
  await page.goto(url);
  if (token) {
    await until("without the token the page says the API asks for one", async () =>
      /asks for a token/.test(await page.locator("#banner").innerText()));
    await page.fill("#token", token);
    await page.click("#token-save");
    await until("the token is kept in sessionStorage", async () =>
      (await page.evaluate(() => sessionStorage.getItem("api_abuse_token"))) === token);
  }
  const row = page.locator(`#lists tr[data-addr="${client}"]`);
  await row.waitFor({ timeout: 10000 });
  pass("the page renders and shows the listed client " + client);
  const rowText = await row.innerText();
  if (!/deny/.test(rowText) || !/detection/.test(rowText) || !/vulnerability scanning/.test(rowText)) {
    throw new Error("the row does not say deny / detection / vulnerability scanning: " + rowText);
  }
  pass("its row shows list, origin and bot type");
  await until("the overview shows the 30-day statistics and the hourly chart", async () =>
    (await page.locator("#cards .card").count()) >= 6 && (await page.locator("#chart svg rect").count()) >= 1);

  await until("the 30-day denylisting count is a number", async () =>
    /^\d/.test(await page.locator("#cards .card").nth(4).locator(".v").innerText()));

  step = "why";
  const ev = page.locator(`#events tr[data-client="${client}"]`).first();
  await ev.waitFor();
  await ev.locator("button.why-toggle").click();
  const detail = page.locator(`#events tr.why-row[data-for="${await ev.getAttribute("data-seq")}"]`);
  await detail.waitFor();
  const detectors = await detail.locator(".why table").first().locator("tbody tr").count();
  if (detectors < 11) throw new Error("expected every detector in the detection's details, got " + detectors);
  const fired = await detail.locator(".why table").first().locator(".b-fired").count();
  if (fired < 2) throw new Error("expected the detectors that fired to say so, got " + fired);
  const confidences = await detail.locator(".why table").nth(1).locator("tbody tr").count();
  if (confidences !== 8) throw new Error("expected 8 bot types' confidence, got " + confidences);
  pass(`its detection explains why: ${detectors} detector rows, ${confidences} bot types`);
  if (shots) {
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
    await page.locator("#detections").screenshot({ path: join(shots, "dashboard-detection.png") });
    pass("screenshots written to " + shots);
  }

  step = "filters";
  await page.selectOption("#f-list", "gray");
  await until("the list filter hides the denylisted row", async () => (await row.count()) === 0);
  await page.selectOption("#f-list", "");
  await page.fill("#q", client);
  await until("the search finds it again", async () => (await page.locator("#lists tbody tr[data-addr]").count()) === 1);
  await page.fill("#q", "");

  step = "unblock";
  await row.locator("button.unblock").click();
  await until("Unblock removes the row", async () => (await row.count()) === 0);
  await until("the API no longer lists " + client, async () => !(await entry(client)));

  step = "denylist";
  const evAgain = page.locator(`#events tr[data-client="${client}"]`).first();
  await evAgain.locator("button.denylist").click();
  const forever = await until("the detection's Denylist button lists it forever (API)", async () => {
    const e = await entry(client);
    return e && e.list === "deny" && e.expires === "forever" && e.origin === "operator" ? e : null;
  });
  const sel = page.locator(`#events tr[data-client="${client}"]`).first().locator("select");
  await sel.waitFor();
  await sel.selectOption("1h");
  await until("its duration is changed to 1 hour afterwards (API)", async () => {
    const e = await entry(client);
    if (!e || e.expires === "forever") return false;
    const left = Date.parse(e.expires) - Date.now();
    return left > 3500e3 && left <= 3600e3 + 5e3;
  });

  step = "add";
  await page.fill("#add-addr", "203.0.113.50");
  await page.selectOption("#add-list", "gray");
  await page.selectOption("#add-duration", "7d");
  await page.click("#add button[type=submit]");
  await until("the add form puts 203.0.113.50 on the graylist for 7 days (API)", async () => {
    const e = await entry("203.0.113.50");
    return e && e.list === "gray" && Math.abs(Date.parse(e.expires) - Date.now() - 7 * 86400e3) < 60e3;
  });
  await page.locator('#lists tr[data-addr="203.0.113.50"]').waitFor();
  pass("the new entry shows in the table");

  if (foreign.length) throw new Error("the page asked for other origins: " + foreign.join(", "));
  pass("nothing was fetched from another origin");
  if (pageErrors.length) throw new Error("errors in the page: " + pageErrors.join("; "));
  pass("no script error in the page");
  console.log(JSON.stringify({ ok: true, checks: checks.length, forever_entry: forever }));
} catch (e) {
  console.log("FAIL at " + step + ": " + e.message);
  if (pageErrors.length) console.log("page errors: " + pageErrors.join("; "));
  if (ctx && shots) {
    try { await ctx.pages()[0].screenshot({ path: join(shots, "dashboard-failure.png"), fullPage: true }); } catch (_) { /* best effort */ }
  }
  process.exitCode = 1;
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
