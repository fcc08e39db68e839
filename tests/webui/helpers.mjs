// Shared pieces of the browser tests of the `owl serve` chat page: starting servers, launching
// headless Chromium through playwright-core, and reading what the page and the server did.
// run.sh sets the environment:
//   OWL_BINARY          the built owl executable
//   OWL_TEST_MODEL_DIR  a folder with stories260K.gguf and synthetic-100m.gguf (a slow
//                       random-weight model, for replies that last long enough to watch or stop)
//   OWL_TEST_TMP        a scratch folder that run.sh removes on exit (optional)
//   OWL_CHROMIUM        the browser (default /usr/bin/chromium, Debian's `chromium` package)
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { chromium } from 'playwright-core';

// Plain node: the server start and stop, scratch folders and polling of the client tests.
import { pollUntil, requireEnv as requireEnvOf, spawnServer } from '../clients/helpers.mjs';

export { pollUntil };

export const STORIES = 'stories260K';
export const SLOW = 'synthetic-100m';
export const TEST_TIMEOUT = 90_000;
export const HOOK_TIMEOUT = 120_000;
export const UI_TIMEOUT = 20_000; // one page action or wait

export const T = { timeout: TEST_TIMEOUT };

const requireEnv = (name) => requireEnvOf(name, 'tests/webui/run.sh');

// Starts `owl serve --models DIR` on a free port (2 slots, 2048-token contexts, 2 threads) and
// resolves once it prints its listening line, to {url, stop(), log()}.
export function startServer(args = []) {
  const argv = [
    'serve',
    '--models',
    requireEnv('OWL_TEST_MODEL_DIR'),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--parallel',
    '2',
    '-c',
    '2048',
    '-t',
    '2',
    ...args,
  ];
  // A developer's own key must not change what the tests expect.
  return spawnServer(requireEnv('OWL_BINARY'), argv, { env: { OWL_API_KEY: undefined }, statePrefix: 'owl-webui-state-' });
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.OWL_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 60_000,
  });
}

// A fresh browser context (its own localStorage) and page. Returns {context, page, problems,
// requests}: problems collects uncaught page errors and Content-Security-Policy violations (the
// page must cause none); requests every URL the page asked for.
export async function openPage(browser, { viewport = { width: 1280, height: 800 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, acceptDownloads: true });
  context.setDefaultTimeout(UI_TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  const requests = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`console: ${text}`);
  });
  page.on('request', (r) => requests.push(r.url()));
  return { context, page, problems, requests };
}

// The per-file setup of the tests: registers, in the calling describe(), a before() that starts
// a server (startServer(SERVERARGS)) and a browser, and an after() that closes both. Returns an
// object whose server, url and browser are set once that before() has run; hooks the caller
// registers afterwards run after it (and their after()s before the closing one).
export function serverAndBrowser(serverArgs = []) {
  const ctx = { server: undefined, url: undefined, browser: undefined };
  before(async () => {
    ctx.server = await startServer(serverArgs);
    ctx.url = ctx.server.url;
    ctx.browser = await launchBrowser();
  }, { timeout: HOOK_TIMEOUT });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.stop();
  }, { timeout: HOOK_TIMEOUT });
  return ctx;
}

export function assertNoProblems(problems) {
  assert.deepEqual(problems, [], 'the page reported errors or CSP violations');
}

export const sel = (testid) => `[data-testid="${testid}"]`;

// Opens the page and waits until the model picker lists the server's models.
export async function gotoChat(page, url, { expectModels = 2 } = {}) {
  await page.goto(`${url}/`);
  await waitForModels(page, expectModels);
}

// Reloads the page and waits for the model picker again.
export async function reloadChat(page, { expectModels = 2 } = {}) {
  await page.reload();
  await waitForModels(page, expectModels);
}

export async function waitForModels(page, n = 2) {
  await page.waitForFunction(
    (count) => document.querySelectorAll('[data-testid="model-select"] option[value]:not([value=""])').length === count,
    n,
  );
}

export async function setField(page, testid, value) {
  await page.fill(sel(testid), String(value));
}

// Types TEXT into the composer, sends it with Enter, and waits for the reply to finish (the Stop
// button gone, Send back). Returns the chat completion request's body.
export async function sendAndWait(page, text, { timeout = 60_000 } = {}) {
  const request = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions') && r.method() === 'POST', { timeout });
  await page.fill(sel('message-input'), text);
  await page.press(sel('message-input'), 'Enter');
  const body = (await request).postDataJSON();
  await waitIdle(page, timeout);
  return body;
}

export async function waitIdle(page, timeout = 60_000) {
  await page.waitForSelector(`${sel('stop')}[hidden]`, { state: 'attached', timeout });
  await page.waitForSelector(`${sel('send')}:not([hidden])`, { timeout });
}

export function messages(page) {
  return page.locator(sel('message'));
}

export function lastAssistant(page) {
  return page.locator(`${sel('message')}[data-role="assistant"]`).last();
}

// The text of the last assistant message's content, as the page shows it.
export async function lastReplyText(page) {
  return page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
    const last = all[all.length - 1];
    return last ? last.textContent : '';
  });
}

export async function storedConversations(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('owl.conversations') || '[]'));
}

// The data of each server-sent event in TEXT, parsed (without [DONE]).
export function parseEvents(text) {
  const out = [];
  for (const block of text.split(/\n\n/)) {
    const data = block
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n');
    if (data && data !== '[DONE]') out.push(JSON.parse(data));
  }
  return out;
}

// The value of METRIC in the server's /metrics text.
export async function metric(url, name) {
  const r = await fetch(`${url}/metrics`);
  assert.equal(r.status, 200);
  const text = await r.text();
  const m = new RegExp(`^${name}(\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(text);
  return m ? Number(m[2]) : undefined;
}

// max_tokens for SECONDS of the slow model's reply at this machine's speed (measured once per
// server: a short greedy reply), within what a 2048-token context leaves after a short prompt.
export async function slowMaxTokens(url, seconds) {
  const r = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: SLOW, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 32, temperature: 0 }),
  });
  assert.equal(r.status, 200, `measuring ${SLOW}: ${r.status}`);
  const body = await r.json();
  const t = body.timings;
  const perSecond = t && t.predicted_ms > 0 ? (t.predicted_n / t.predicted_ms) * 1000 : 50;
  return Math.max(48, Math.min(1800, Math.round(perSecond * seconds)));
}
