// A held call, end to end, the way a person meets it: the official TypeScript SDK client (declaring
// URL-mode elicitation) calls a tool that needs approval and gets the approval page's link; headless
// Chromium (driven with puppeteer-core) opens it, signs in, reads the call and clicks Approve; the
// client's plain retry then runs once, and the same call again is held anew.
// Usage: node approve-in-browser.mjs MCP_URL TOKEN ADMIN_TOKEN OPERATOR   → one JSON line.
import puppeteer from "puppeteer-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UrlElicitationRequiredError } from "@modelcontextprotocol/sdk/types.js";

const [url, token, adminToken, operator] = process.argv.slice(2);
const out = {};
const client = new Client({ name: "browser-approval-test", version: "1.0.0" }, { capabilities: { elicitation: { url: {} } } });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
const call = () => client.callTool({ name: "deploy", arguments: { env: "staging" } });

async function held() {
  try {
    const r = await call();
    return { ran: !r.isError };
  } catch (e) {
    return e instanceof UrlElicitationRequiredError ? { url: e.elicitations[0].url, message: e.elicitations[0].message } : { error: String(e.message ?? e) };
  }
}

out.first = await held();
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  await page.goto(out.first.url, { waitUntil: "domcontentloaded" });
  out.loginTitle = await page.title();
  await page.type("#operator", operator);
  await page.type("#token", adminToken);
  await Promise.all([page.waitForNavigation({ waitUntil: "domcontentloaded" }), page.click("#signin")]);
  const text = async (id) => {
    const found = await page.$(id);
    if (!found)
      throw new Error(`no ${id} on ${page.url()}: ${(await page.content()).slice(0, 2000)}`);
    return page.$eval(id, (e) => e.textContent);
  };
  out.shown = { who: await text("#who"), what: await text("#what"), agent: await text("#agent"), workType: await text("#work-type"), arguments: await text("#arguments"), status: await text("#status") };
  await page.type("#reason", "reviewed in the browser");
  await Promise.all([page.waitForNavigation({ waitUntil: "domcontentloaded" }), page.click("#approve")]);
  out.result = await text("#result");
} finally {
  await browser.close();
}
const retry = await call();
out.retry = retry.isError ? "error" : retry.content.map((c) => c.text).join("");
out.replay = await held();
console.log(JSON.stringify(out));
await client.close();
