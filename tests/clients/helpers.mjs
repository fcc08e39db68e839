// Shared pieces of the `owl serve` client tests: starting and stopping a server, running the owl
// binary for reference output, clients of both APIs, and a few numeric checks. run.sh sets the environment:
//   OWL_BINARY     the built owl executable
//   OWL_TEST_MODEL the stories260K GGUF converted for this run (model id: its file stem)
//   OWL_TEST_TMP   a scratch folder that run.sh removes on exit (optional; else the OS temp dir)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { Ollama } from 'ollama';
import OpenAI from 'openai';

export const MODEL_ID = 'stories260K';
export const N_EMBD = 64; // stories260K: dim=64
export const N_VOCAB = 512; // tok512.bin
export const TEST_TIMEOUT = 60_000;
export const HOOK_TIMEOUT = 120_000;
const LISTEN_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LISTEN_RE = /owl serve: listening on http:\/\/127\.0\.0\.1:(\d+)/;

// tests/webui/helpers.mjs imports the generic pieces below (requireEnv, scratchDir, spawnServer,
// pollUntil): keep this module free of npm packages so that it loads from either package.
export function requireEnv(name, runner = 'tests/clients/run.sh') {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through ${runner}`);
  return v;
}

export function owlBinary() {
  return requireEnv('OWL_BINARY');
}

export function modelPath() {
  return requireEnv('OWL_TEST_MODEL');
}

export function scratchDir(prefix) {
  const root = process.env.OWL_TEST_TMP || os.tmpdir();
  return fs.mkdtempSync(path.join(root, prefix));
}

// Servers still running when the test process exits (a crash, an unhandled rejection) are killed
// so that no owl process outlives the run.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child, ms) {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

// Starts `owl serve` on a free port and resolves once it has printed its listening line.
// Returns {url, port, stop(), log()}: stop() sends SIGTERM, waits for the exit (SIGKILL after 5 s)
// and resolves to {code, signal}; log() is everything the server wrote to stderr so far.
export function startServer(args = [], env = {}) {
  const argv = [
    'serve',
    modelPath(),
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--parallel',
    '4',
    '-c',
    '256',
    '-t',
    '2',
    ...args,
  ];
  return spawnServer(owlBinary(), argv, { env });
}

// startServer() with a client of each API pointed at it (no retries, the tests' timeout).
export async function startServerWithClients() {
  const server = await startServer();
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: TEST_TIMEOUT });
  return { server, openai, ollama: new Ollama({ host: server.url }) };
}

// Runs BINARY with ARGV (an `owl serve` command line that listens on port 0 of 127.0.0.1) with
// OWL_STATE_DIR a fresh scratch folder named STATEPREFIX..., and resolves as startServer does.
// ENV is added to the environment; a name set to undefined there is removed from it.
export function spawnServer(binary, argv, { env = {}, statePrefix = 'owl-serve-state-' } = {}) {
  const stateDir = scratchDir(statePrefix);
  const childEnv = { ...process.env, OWL_STATE_DIR: stateDir, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const child = spawn(binary, argv, {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    stdout += d;
  });

  const stop = async () => {
    if (!exited(child)) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_GRACE_MS);
      }
    }
    live.delete(child);
    fs.rmSync(stateDir, { recursive: true, force: true });
    return { code: child.exitCode, signal: child.signalCode };
  };
  const log = () => stderr;

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stop().finally(() =>
        reject(new Error(`owl ${argv.join(' ')}: ${why}\n--- stderr ---\n${stderr}--- stdout ---\n${stdout}`)),
      );
    };
    const timer = setTimeout(() => fail(`no listening line within ${LISTEN_TIMEOUT_MS / 1000} s`), LISTEN_TIMEOUT_MS);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (settled) return;
      const m = LISTEN_RE.exec(stderr);
      if (m) {
        settled = true;
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ url: `http://127.0.0.1:${port}`, port, stop, log });
      }
    });
    child.on('error', (e) => fail(`could not start: ${e.message}`));
    child.on('exit', (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
  });
}

// Runs the owl binary synchronously; OWL_STATE_DIR points at a scratch folder.
export function runOwl(args) {
  const stateDir = scratchDir('owl-run-state-');
  try {
    const r = spawnSync(owlBinary(), args, {
      encoding: 'utf8',
      env: { ...process.env, OWL_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: TEST_TIMEOUT,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

// What `owl run` prints for a greedy completion of PROMPT with N tokens, without the prompt and
// without the one newline it always adds at the end. Same thread count as the servers (-t 2).
const references = new Map();
export function referenceCompletion(prompt, n) {
  const key = `${n}\u0000${prompt}`;
  if (!references.has(key)) {
    const args = ['run', '-m', modelPath(), '-p', prompt, '-n', String(n), '--temp', '0', '--no-prompt', '-t', '2'];
    const r = runOwl(args);
    if (r.status !== 0) throw new Error(`owl ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
    references.set(key, r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout);
  }
  return references.get(key);
}

// What `owl run --messages` prints for a greedy reply of N tokens to MESSAGES (rendered with the
// model's template by the CLI's own path), without the newline it adds at the end.
export function referenceChatReply(messages, n) {
  const dir = scratchDir('owl-messages-');
  try {
    const file = path.join(dir, 'messages.json');
    fs.writeFileSync(file, JSON.stringify({ messages }));
    const args = ['run', '-m', modelPath(), '--messages', file, '-n', String(n), '--temp', '0', '-t', '2'];
    const r = runOwl(args);
    if (r.status !== 0) throw new Error(`owl ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`);
    return r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A stop string taken from TEXT: its first word of at least three letters after the second word
// whose first occurrence is not at the very start, else a three-character slice of the middle.
// Returns {stop, expected}: expected is TEXT cut right before the first occurrence of stop.
export function stopStringFrom(text) {
  const words = text.split(/[^A-Za-z]+/).filter((w) => w.length > 0);
  let stop = words.slice(2).find((w) => w.length >= 3 && text.indexOf(w) > 0);
  if (!stop) {
    if (text.length < 6) throw new Error(`text too short to take a stop string from: ${JSON.stringify(text)}`);
    const mid = Math.floor(text.length / 2);
    stop = text.slice(mid, mid + 3);
  }
  return { stop, expected: text.slice(0, text.indexOf(stop)) };
}

export function l2norm(v) {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

export function assertVector(assert, v, n = N_EMBD) {
  assert.ok(Array.isArray(v), `expected an array, got ${Object.prototype.toString.call(v)}`);
  assert.equal(v.length, n);
  for (const x of v) assert.ok(typeof x === 'number' && Number.isFinite(x), `not a finite number: ${x}`);
}

export function assertClose(assert, a, b, tol, what = 'vectors') {
  assert.equal(a.length, b.length, `${what}: lengths differ`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what} differ by ${worst} at ${at} (${a[at]} vs ${b[at]}), more than ${tol}`);
}

export function isNonNegativeInteger(x) {
  return Number.isSafeInteger(x) && x >= 0;
}

// A raw HTTP/1.1 request through node:http (fetch cannot set Host). BODY may be a string or a
// Buffer; the whole response body is returned as a string.
export function rawRequest(url, { method = 'GET', path: p = '/', headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: p, headers, timeout: TEST_TIMEOUT },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

// Sends a POST whose Content-Length announces BYTES and resolves to the response. It asks for
// `Expect: 100-continue` and sends the body (1 MiB pieces, one per event-loop turn so that an early
// answer is read between them) once the server says 100 Continue, or after 2 s from a server that
// ignores Expect; it stops sending as soon as a response arrives. A server may answer an oversized
// body before reading it and close the connection, and the reset can then reach this side before
// the answer has been read; such an attempt (no response, EPIPE or ECONNRESET) is retried twice.
export async function oversizedPost(url, p, bytes) {
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await oversizedPostOnce(url, p, bytes);
    } catch (e) {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') throw e;
      lastError = e;
    }
  }
  throw lastError;
}

function oversizedPostOnce(url, p, bytes) {
  const u = new URL(url);
  const piece = Buffer.alloc(1 << 20, 0x20); // spaces: the start of a JSON document, never valid
  return new Promise((resolve, reject) => {
    let response = null;
    let done = false;
    let started = false;
    let fallback = null;
    const finish = (err, value) => {
      if (done) return;
      done = true;
      clearTimeout(fallback);
      req.destroy(); // the rest of the body is never sent
      if (err) reject(err);
      else resolve(value);
    };
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: p,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(bytes), Expect: '100-continue' },
        timeout: TEST_TIMEOUT,
      },
      (res) => {
        response = { status: res.statusCode, headers: res.headers, body: '' };
        res.setEncoding('utf8');
        res.on('data', (d) => {
          response.body += d;
        });
        res.on('end', () => finish(null, response));
        res.on('error', () => finish(null, response));
        res.on('aborted', () => finish(null, response));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (e) => {
      if (response) finish(null, response);
      else finish(e);
    });
    let sent = 0;
    const pump = () => {
      if (done || response || req.destroyed) return;
      if (sent >= bytes) {
        req.end();
        return;
      }
      const n = Math.min(piece.length, bytes - sent);
      sent += n;
      if (req.write(n === piece.length ? piece : piece.subarray(0, n))) setImmediate(pump);
      else req.once('drain', () => setImmediate(pump));
    };
    const start = () => {
      clearTimeout(fallback);
      if (started) return;
      started = true;
      pump();
    };
    req.on('continue', start);
    fallback = setTimeout(start, 2000);
    req.flushHeaders();
  });
}

// Resolves to the error PROMISE rejects with, failing when it resolves instead.
export async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('the request succeeded but should have failed');
}

// Polls FN every 100 ms until it resolves truthy or MS have passed; resolves to the last value.
export async function pollUntil(fn, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
