// `owl serve` over plain HTTP, for what the client libraries do not show: the root and health
// routes, metrics, tokenize/detokenize, Host and size checks, CORS and the streaming wire formats.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { HOOK_TIMEOUT, MODEL_ID, TEST_TIMEOUT, oversizedPost, rawRequest, startServer } from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const JSON_HEADERS = { 'Content-Type': 'application/json' };

// The value of the first sample of METRIC in Prometheus text TEXT (with or without labels).
function metricValue(text, metric) {
  const re = new RegExp(`^${metric}(\\{[^}]*\\})?\\s+(\\S+)`, 'm');
  const m = re.exec(text);
  return m ? Number(m[2]) : undefined;
}

describe('HTTP', () => {
  let server;
  let url;

  const post = (path, body, headers = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });

  before(async () => {
    server = await startServer();
    url = server.url;
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  it('GET / says the server is running', T, async () => {
    const r = await fetch(`${url}/`);
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /owl/i);
  });

  it('HEAD /api/version', T, async () => {
    const r = await fetch(`${url}/api/version`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '', 'a HEAD response has no body');
  });

  it('GET /health', T, async () => {
    const r = await fetch(`${url}/health`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  });

  it('GET /metrics counts tokens in Prometheus text format', T, async () => {
    const gen = await post('/v1/completions', { model: MODEL_ID, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
    assert.equal(gen.status, 200);
    const usage = (await gen.json()).usage;
    assert.equal(usage.completion_tokens, 5);

    const r = await fetch(`${url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await r.text();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?\s+\S+(\s+\d+)?$/, `not a Prometheus sample: ${line}`);
    }
    const prompt = metricValue(text, 'owl_prompt_tokens_total');
    const generated = metricValue(text, 'owl_tokens_generated_total');
    const processing = metricValue(text, 'owl_requests_processing');
    assert.ok(prompt >= usage.prompt_tokens, `owl_prompt_tokens_total ${prompt} < ${usage.prompt_tokens}`);
    assert.ok(generated >= 5, `owl_tokens_generated_total ${generated}`);
    assert.ok(Number.isFinite(processing) && processing >= 0, `owl_requests_processing ${processing}`);
  });

  it('tokenize and detokenize round trip', T, async () => {
    const content = 'Once upon a time';
    const t = await post('/tokenize', { content });
    assert.equal(t.status, 200);
    const { tokens } = await t.json();
    assert.ok(Array.isArray(tokens) && tokens.length > 0, `tokens ${JSON.stringify(tokens)}`);
    for (const id of tokens) assert.ok(Number.isInteger(id) && id >= 0, `token ${id}`);
    const d = await post('/detokenize', { tokens });
    assert.equal(d.status, 200);
    const back = await d.json();
    assert.equal(typeof back.content, 'string');
    assert.equal(back.content.trim(), content);
  });

  it('a foreign Host header is refused with 403', T, async () => {
    const r = await rawRequest(url, { path: '/api/version', headers: { Host: 'evil.example.com' } });
    assert.equal(r.status, 403);
    const ok = await rawRequest(url, { path: '/api/version', headers: { Host: `127.0.0.1:${server.port}` } });
    assert.equal(ok.status, 200, 'the server\'s own address is accepted');
    const local = await rawRequest(url, { path: '/api/version', headers: { Host: `localhost:${server.port}` } });
    assert.equal(local.status, 200, 'localhost is accepted');
  });

  it('a body that is not JSON is a 400 with an OpenAI error object', T, async () => {
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: JSON_HEADERS, body: 'this is {not json' });
    assert.equal(r.status, 400);
    const body = await r.json();
    assert.equal(typeof body.error?.message, 'string');
    assert.ok(body.error.message.length > 0);
    assert.equal(typeof body.error.type, 'string');
  });

  it('a 20 MiB body is refused with 413', T, async () => {
    const r = await oversizedPost(url, '/v1/chat/completions', 20 << 20);
    assert.equal(r.status, 413);
  });

  it('no CORS headers without --cors-origin', T, async () => {
    const pre = await fetch(`${url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://x.test',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,authorization',
      },
    });
    await pre.arrayBuffer();
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
    const get = await fetch(`${url}/v1/models`, { headers: { Origin: 'http://x.test' } });
    await get.arrayBuffer();
    assert.equal(get.headers.get('access-control-allow-origin'), null);
  });

  it('OpenAI streaming wire format: data lines, blank lines, [DONE]', T, async () => {
    const r = await post('/v1/chat/completions', {
      model: MODEL_ID,
      messages: [{ role: 'user', content: 'Tell me a story' }],
      max_tokens: 5,
      temperature: 0,
      stream: true,
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await r.text();
    assert.ok(text.endsWith('\n\n'), 'the stream ends with a blank line');
    const events = text.slice(0, -2).split('\n\n');
    assert.ok(events.length >= 3, `only ${events.length} events`);
    assert.equal(events.at(-1), 'data: [DONE]');
    for (const ev of events.slice(0, -1)) {
      assert.ok(ev.startsWith('data: '), `event ${JSON.stringify(ev)}`);
      assert.ok(!ev.includes('\n'), `one line per event: ${JSON.stringify(ev)}`);
      const chunk = JSON.parse(ev.slice('data: '.length));
      assert.equal(chunk.object, 'chat.completion.chunk');
    }
  });

  it('Ollama streaming wire format: NDJSON', T, async () => {
    const r = await post('/api/generate', {
      model: MODEL_ID,
      prompt: 'Once upon a time',
      raw: true,
      stream: true,
      options: { temperature: 0, num_predict: 5 },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const text = await r.text();
    assert.ok(text.endsWith('\n'), 'the last line ends with a newline');
    const lines = text.slice(0, -1).split('\n');
    assert.ok(lines.length >= 2, `only ${lines.length} lines`);
    const objs = lines.map((line) => {
      const o = JSON.parse(line);
      assert.equal(typeof o, 'object');
      assert.ok(o !== null && !Array.isArray(o), `line ${line}`);
      return o;
    });
    for (const o of objs.slice(0, -1)) assert.equal(o.done, false);
    assert.equal(objs.at(-1).done, true);
    assert.equal(objs.at(-1).eval_count, 5);
  });

  it('Ollama /api/generate streams when "stream" is absent', T, async () => {
    const r = await post('/api/generate', {
      model: MODEL_ID,
      prompt: 'Once upon a time',
      raw: true,
      options: { temperature: 0, num_predict: 5 },
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = (await r.text()).split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 2);
    assert.equal(JSON.parse(lines.at(-1)).done, true);
  });
});
