// `owl serve` over the store, through the official Ollama JavaScript client: pull (streamed progress
// and not), list, show, generate by the pulled name, copy and delete — with a registry on a loopback
// port (below) that speaks Ollama's registry protocol and serves the stories260K GGUF as a model layer.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';

import { HOOK_TIMEOUT, TEST_TIMEOUT, modelPath, owlBinary, referenceCompletion, scratchDir, spawnServer } from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const PROMPT = 'Once upon a time';

function digestOf(bytes) {
  return `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
}

// A registry holding library/stories:latest: manifest, model and template layers, config blob.
// Blobs honour a "bytes=A-" or "bytes=A-B" range, as a registry does.
function startRegistry(gguf) {
  const blobs = new Map();
  const layer = (mediaType, bytes) => {
    const digest = digestOf(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: layer('application/vnd.docker.container.image.v1+json', Buffer.from('{"model_format":"gguf"}')),
    layers: [layer('application/vnd.ollama.image.model', gguf), layer('application/vnd.ollama.image.template', Buffer.from('{{ .Prompt }}'))],
  });
  const server = http.createServer((req, res) => {
    if (req.url === '/v2/library/stories/manifests/latest') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' });
      return res.end(manifest);
    }
    const m = req.url.match(/^\/v2\/library\/stories\/blobs\/(sha256:[0-9a-f]{64})$/);
    const bytes = m && blobs.get(m[1]);
    if (!bytes) {
      res.writeHead(404);
      return res.end();
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || '');
    if (!range) {
      res.writeHead(200, { 'Content-Length': bytes.length });
      return res.end(bytes);
    }
    const from = Number(range[1]);
    const to = range[2] === '' ? bytes.length - 1 : Number(range[2]);
    res.writeHead(206, { 'Content-Length': to - from + 1, 'Content-Range': `bytes ${from}-${to}/${bytes.length}` });
    return res.end(bytes.subarray(from, to + 1));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }));
  });
}

async function names(ollama) {
  return (await ollama.list()).models.map((m) => m.name).sort();
}

describe('Ollama client: the store', () => {
  let registry;
  let server;
  let ollama;
  const gguf = fs.readFileSync(modelPath());

  before(async () => {
    registry = await startRegistry(gguf);
    const home = scratchDir('owl-store-');
    const env = {
      OWL_HOME: home,
      OWL_REGISTRY: registry.url,
      OLLAMA_MODELS: path.join(home, 'no-ollama'),
      HF_HUB_CACHE: path.join(home, 'no-hf'),
    };
    server = await spawnServer(owlBinary(), ['serve', '--host', '127.0.0.1', '--port', '0', '-c', '256', '-t', '2'], { env });
    ollama = new Ollama({ host: server.url });
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    if (server) await server.stop();
    if (registry) registry.close();
  }, { timeout: HOOK_TIMEOUT });

  it('pulls with streamed progress, then lists, shows, runs, copies and deletes the model', T, async () => {
    assert.deepEqual(await names(ollama), []);
    const progress = [];
    for await (const p of await ollama.pull({ model: 'stories', stream: true })) progress.push(p);
    assert.equal(progress[0].status, 'pulling manifest');
    assert.equal(progress.at(-1).status, 'success');
    const digest = digestOf(gguf);
    const model = progress.filter((p) => p.digest === digest);
    assert.ok(model.length > 0, JSON.stringify(progress));
    for (const p of model) assert.equal(p.total, gguf.length);
    assert.equal(model.at(-1).completed, gguf.length);
    assert.ok(progress.some((p) => p.status === 'verifying sha256 digest'));

    assert.deepEqual(await names(ollama), ['stories:latest']);
    const listed = (await ollama.list()).models[0];
    assert.equal(listed.size, gguf.length + 13 + 23); // the model, template and config blobs
    const shown = await ollama.show({ model: 'stories' });
    assert.equal(shown.details.family, 'llama');
    const r = await ollama.generate({ model: 'stories', prompt: PROMPT, raw: true, options: { temperature: 0, num_predict: 30 } });
    assert.equal(r.response, referenceCompletion(PROMPT, 30), 'the pulled model runs as the file it came from');

    await ollama.copy({ source: 'stories', destination: 'stories-copy:v1' });
    assert.deepEqual(await names(ollama), ['stories-copy:v1', 'stories:latest']);
    await ollama.delete({ model: 'stories' });
    assert.deepEqual(await names(ollama), ['stories-copy:v1']);
    await ollama.delete({ model: 'stories-copy:v1' });
    assert.deepEqual(await names(ollama), []);
  });

  it('pulls without streaming, and reports what cannot be pulled or deleted', T, async () => {
    assert.deepEqual(await ollama.pull({ model: 'stories' }), { status: 'success' });
    assert.deepEqual(await names(ollama), ['stories:latest']);
    await assert.rejects(
      (async () => {
        for await (const p of await ollama.pull({ model: 'no-such-model', stream: true })) void p;
      })(),
      /not found/,
    );
    await assert.rejects(ollama.delete({ model: 'no-such-model' }), (e) => e.status_code === 404);
    await assert.rejects(ollama.copy({ source: 'no-such-model', destination: 'x' }), (e) => e.status_code === 404);
    await assert.rejects(ollama.pull({ model: '../../etc/passwd' }), (e) => e.status_code === 400);
    await ollama.delete({ model: 'stories' });
  });
});
