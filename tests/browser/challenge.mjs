// Drives Debian's headless Chromium at a page of a client under challenge,
// as a person would: it opens the page and does nothing else. The module
// answers with the challenge page; its script must mint the pass cookie and
// reload, so that the person lands on the page asked for (200, same URL)
// without any action, and is not challenged on the next page. The page
// must fetch nothing, run under its own Content-Security-Policy without a
// violation, and throw no error.
//
//   node challenge.mjs --url http://127.0.0.1:PORT/shop/?q=1 \
//        --next http://127.0.0.1:PORT/shop/next --client 10.30.0.1 [--shots DIR]
//
// Prints one line per check and a JSON summary; exits 1 on the first failure.

import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const { url, next, client } = args;
const shots = args.shots || "";
if (!url || !next || !client) {
  console.error("usage: node challenge.mjs --url PAGE --next PAGE --client ADDR [--shots DIR]");
  process.exit(2);
}
const origin = new URL(url).origin;

const checks = [];
function pass(what) { checks.push(what); console.log("PASS " + what); }

const profile = mkdtempSync(join(tmpdir(), "api-abuse-chromium-"));
let ctx;
let step = "launch";
const foreign = [];
const pageErrors = [];
const responses = [];
const summary = { ok: false };
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"],
    // the client address, through the realip module of the server under test
    extraHTTPHeaders: { "X-Forwarded-For": client },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  await ctx.route("**/*", (route) => {
    const u = route.request().url();
    if (new URL(u).origin === origin) return route.continue();
    foreign.push(u);
    return route.abort();
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    // the challenge's own 403 is the server answering, not the page failing
    if (m.type() === "error" && !/Failed to load resource: .* 403/.test(m.text())) pageErrors.push(m.text());
  });
  const t = () => Date.now();
  page.on("request", (r) => {
    if (r.resourceType() === "document") responses.push({ url: r.url(), sent: t() });
  });
  page.on("response", (r) => {
    const d = responses.findLast((x) => x.url === r.url() && x.status === undefined);
    if (d) Object.assign(d, { status: r.status(), answered: t() });
  });

  step = "first visit";
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector("h1#shop", { timeout: 15000 });
  const landed = Date.now() - t0;
  const docs = responses.slice();
  if (docs.length < 2 || docs[0].status !== 403) {
    throw new Error("expected the challenge (403) first, then the page: " + JSON.stringify(docs));
  }
  // from the challenge page's arrival to the reload it asks for: its script
  // (the proof of work and the cookie)
  const script = docs[1].sent - docs[0].answered;
  pass(`the first answer is the challenge page (${docs[0].status}); its script took ${script} ms`);
  const last = docs[docs.length - 1];
  if (last.status !== 200 || last.url !== url) throw new Error("did not land on the page asked for: " + JSON.stringify(docs));
  if (page.url() !== url) throw new Error("the address bar shows " + page.url());
  pass(`the browser landed on ${url} with 200 after ${landed} ms, without any action`);
  const cookies = await ctx.cookies(origin);
  const passCookie = cookies.find((c) => c.name.startsWith("api_abuse_pass_"));
  if (!passCookie) throw new Error("no pass cookie: " + JSON.stringify(cookies));
  pass(`the script set the pass cookie ${passCookie.name} (expires in ${Math.round(passCookie.expires - Date.now() / 1000)} s)`);
  if (shots) await page.screenshot({ path: join(shots, "challenge-landed.png") });

  step = "next page";
  const before = responses.length;
  await page.click("a#next");
  await page.waitForSelector("h1#next", { timeout: 10000 });
  const after = responses.slice(before);
  if (after.length !== 1 || after[0].status !== 200) {
    throw new Error("the next page was challenged again: " + JSON.stringify(after));
  }
  pass("the next page is served at once (200), not challenged again");

  step = "checks";
  if (foreign.length) throw new Error("fetched from elsewhere: " + foreign.join(", "));
  pass("nothing was fetched from another origin");
  if (pageErrors.length) throw new Error("page errors: " + pageErrors.join(" | "));
  pass("no script error and no Content-Security-Policy violation");
  Object.assign(summary, { ok: true, landed_ms: landed, script_ms: script, documents: responses, checks: checks.length });
} catch (e) {
  console.log("FAIL " + step + ": " + (e && e.message ? e.message : e));
  summary.error = String(e && e.message ? e.message : e);
} finally {
  if (ctx) await ctx.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
process.exit(summary.ok ? 0 : 1);
