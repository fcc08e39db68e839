// `owl serve` through the official Ollama JavaScript client (/api routes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';

import {
  HOOK_TIMEOUT,
  MODEL_ID,
  N_EMBD,
  N_VOCAB,
  TEST_TIMEOUT,
  assertClose,
  assertVector,
  isNonNegativeInteger,
  l2norm,
  pollUntil,
  rejection,
  referenceCompletion,
  startServer,
  stopStringFrom,
} from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const PROMPT = 'Once upon a time';
const GREEDY_GENERATE = { model: MODEL_ID, prompt: PROMPT, raw: true, options: { temperature: 0, num_predict: 30 } };
const STORY = [{ role: 'user', content: 'Tell me a story' }];
const GREEDY_CHAT = { model: MODEL_ID, messages: STORY, options: { temperature: 0, num_predict: 20 } };

const isOurs = (name) => typeof name === 'string' && name.startsWith(MODEL_ID);

function assertResponseError(e, status) {
  assert.equal(e?.name, 'ResponseError', `expected a ResponseError, got ${e?.name}: ${e?.message}`);
  assert.equal(e.status_code, status);
  assert.equal(typeof e.error, 'string', 'the body is {"error": "..."}');
  assert.ok(e.error.length > 0, 'the error message is not empty');
}

// The statistics of a final (done) generate or chat response.
function assertFinalStats(r, { evalCount, promptEvalPositive = true }) {
  assert.equal(r.done, true);
  assert.ok(isOurs(r.model), `model ${r.model}`);
  assert.equal(typeof r.created_at, 'string');
  assert.ok(!Number.isNaN(Date.parse(r.created_at)), `created_at ${r.created_at}`);
  assert.equal(r.eval_count, evalCount);
  assert.ok(isNonNegativeInteger(r.prompt_eval_count), `prompt_eval_count ${r.prompt_eval_count}`);
  if (promptEvalPositive) assert.ok(r.prompt_eval_count > 0);
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
    assert.ok(isNonNegativeInteger(r[k]), `${k} ${r[k]} is a non-negative integer (ns)`);
  }
  assert.ok(r.total_duration >= r.eval_duration, 'total_duration >= eval_duration');
}

function assertContext(context, minLength) {
  assert.ok(Array.isArray(context), 'context is a list');
  assert.ok(context.length >= minLength, `context has ${context.length} ids, fewer than ${minLength}`);
  for (const id of context) assert.ok(Number.isInteger(id) && id >= 0 && id < N_VOCAB, `token id ${id}`);
}

describe('Ollama client', () => {
  let server;
  let ollama;
  let chatReply; // promise of the non-streaming greedy chat, shared

  const greedyChat = () => {
    chatReply ??= ollama.chat(GREEDY_CHAT);
    return chatReply;
  };

  before(async () => {
    server = await startServer();
    ollama = new Ollama({ host: server.url });
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  describe('generate', () => {
    let first; // the first non-streaming response, whose context the continuation test reuses

    it('non-streaming greedy text equals `owl run`', T, async () => {
      const reference = referenceCompletion(PROMPT, 30);
      const r = await ollama.generate(GREEDY_GENERATE);
      first = r;
      assert.equal(r.response, reference);
      assert.equal(r.done_reason, 'length');
      assertFinalStats(r, { evalCount: 30 });
      assertContext(r.context, 30 + 1);
    });

    it('streaming gives the same text', T, async () => {
      const reference = referenceCompletion(PROMPT, 30);
      const parts = [];
      for await (const part of await ollama.generate({ ...GREEDY_GENERATE, stream: true })) parts.push(part);
      assert.ok(parts.length > 1, `only ${parts.length} parts`);
      const last = parts.at(-1);
      for (const p of parts.slice(0, -1)) {
        assert.equal(p.done, false);
        assert.ok(isOurs(p.model), `model ${p.model}`);
        assert.equal(typeof p.response, 'string');
      }
      assert.equal(parts.map((p) => p.response).join(''), reference);
      assert.equal(last.done_reason, 'length');
      assertFinalStats(last, { evalCount: 30, promptEvalPositive: false });
      assertContext(last.context, 30 + 1);
    });

    it('continues from a previous context', T, async () => {
      const context = first?.context ?? (await ollama.generate(GREEDY_GENERATE)).context;
      const r = await ollama.generate({
        model: MODEL_ID,
        prompt: ' ',
        raw: true,
        context,
        options: { temperature: 0, num_predict: 10 },
      });
      assert.equal(r.done, true);
      assert.equal(typeof r.response, 'string');
      assert.ok(isNonNegativeInteger(r.eval_count) && r.eval_count <= 10, `eval_count ${r.eval_count}`);
      assertContext(r.context, 1);
    });

    it('options.stop cuts the text before the stop string', T, async () => {
      const reference = referenceCompletion(PROMPT, 30);
      const { stop, expected } = stopStringFrom(reference);
      const r = await ollama.generate({ ...GREEDY_GENERATE, options: { ...GREEDY_GENERATE.options, stop: [stop] } });
      assert.equal(r.response, expected, `stop ${JSON.stringify(stop)} in ${JSON.stringify(reference)}`);
      assert.equal(r.done, true);
      assert.equal(r.done_reason, 'stop');
    });

    it('options.seed makes sampling repeatable', T, async () => {
      const sampled = async (seed) => {
        const r = await ollama.generate({
          model: MODEL_ID,
          prompt: PROMPT,
          raw: true,
          options: { temperature: 0.9, seed, num_predict: 30 },
        });
        return r.response;
      };
      const a = await sampled(7);
      assert.equal(typeof a, 'string');
      assert.ok(a.length > 0);
      assert.equal(await sampled(7), a, 'the same seed gives the same text');
      const c = await sampled(8);
      const d = await sampled(9);
      assert.ok(c !== a || d !== a, 'seeds 8 and 9 both reproduce seed 7 exactly');
    });
  });

  describe('chat', () => {
    it('non-streaming greedy reply', T, async () => {
      const r = await greedyChat();
      assert.equal(r.message.role, 'assistant');
      assert.equal(typeof r.message.content, 'string');
      assert.ok(r.message.content.length > 0);
      assert.equal(r.done_reason, 'length');
      assertFinalStats(r, { evalCount: 20 });
    });

    it('streaming gives the same content', T, async () => {
      const ref = await greedyChat();
      const parts = [];
      for await (const part of await ollama.chat({ ...GREEDY_CHAT, stream: true })) parts.push(part);
      assert.ok(parts.length > 1);
      for (const p of parts.slice(0, -1)) {
        assert.equal(p.done, false);
        assert.equal(p.message.role, 'assistant');
      }
      const last = parts.at(-1);
      assert.equal(parts.map((p) => p.message?.content ?? '').join(''), ref.message.content);
      assert.equal(last.done_reason, 'length');
      assertFinalStats(last, { evalCount: 20, promptEvalPositive: false });
    });

    it('options.stop in chat', T, async () => {
      const text = (await greedyChat()).message.content;
      const { stop, expected } = stopStringFrom(text);
      const r = await ollama.chat({ ...GREEDY_CHAT, options: { ...GREEDY_CHAT.options, stop: [stop] } });
      assert.equal(r.message.content, expected, `stop ${JSON.stringify(stop)} in ${JSON.stringify(text)}`);
      assert.equal(r.done_reason, 'stop');
    });

    it('options.seed in chat', T, async () => {
      const sampled = async (seed) =>
        (await ollama.chat({ model: MODEL_ID, messages: STORY, options: { temperature: 0.9, seed, num_predict: 30 } }))
          .message.content;
      const a = await sampled(7);
      assert.ok(a.length > 0);
      assert.equal(await sampled(7), a);
    });
  });

  describe('models', () => {
    it('list', T, async () => {
      const r = await ollama.list();
      assert.ok(Array.isArray(r.models));
      const m = r.models.find((x) => isOurs(x.name));
      assert.ok(m, `no ${MODEL_ID} in ${JSON.stringify(r.models)}`);
      assert.ok(Number.isSafeInteger(m.size) && m.size > 0, `size ${m.size}`);
      assert.equal(typeof m.digest, 'string');
      assert.ok(m.digest.length > 0);
      assert.equal(m.details?.format, 'gguf');
    });

    it('show', T, async () => {
      const r = await ollama.show({ model: MODEL_ID });
      assert.equal(r.details?.format, 'gguf');
      assert.equal(r.details?.family, 'llama');
      assert.equal(typeof r.model_info, 'object');
      assert.ok(r.model_info !== null);
      assert.equal(r.model_info['general.architecture'], 'llama');
      assert.equal(r.model_info['llama.embedding_length'], N_EMBD);
      assert.equal(typeof r.template, 'string');
      assert.ok(r.parameters === undefined || typeof r.parameters === 'string', `parameters ${r.parameters}`);
    });

    it('ps lists the loaded model', T, async () => {
      await ollama.generate({ ...GREEDY_GENERATE, options: { temperature: 0, num_predict: 1 } });
      const r = await ollama.ps();
      assert.ok(Array.isArray(r.models));
      const m = r.models.find((x) => isOurs(x.name));
      assert.ok(m, `no ${MODEL_ID} in ${JSON.stringify(r.models)}`);
      assert.ok(Number.isSafeInteger(m.size) && m.size > 0, `size ${m.size}`);
      assert.equal(typeof m.expires_at, 'string');
      assert.ok(!Number.isNaN(Date.parse(m.expires_at)), `expires_at ${m.expires_at}`);
    });

    it('version', T, async () => {
      const r = await ollama.version();
      assert.equal(typeof r.version, 'string');
      assert.ok(r.version.length > 0);
    });
  });

  describe('embeddings', () => {
    it('embed a list of two strings', T, async () => {
      const r = await ollama.embed({ model: MODEL_ID, input: ['hello', 'world'] });
      assert.ok(isOurs(r.model), `model ${r.model}`);
      assert.ok(Array.isArray(r.embeddings));
      assert.equal(r.embeddings.length, 2);
      for (const v of r.embeddings) {
        assertVector(assert, v, N_EMBD);
        assert.ok(Math.abs(l2norm(v) - 1) <= 1e-3, `norm ${l2norm(v)}`);
      }
      assert.notDeepEqual(r.embeddings[0], r.embeddings[1], 'different texts, different embeddings');
    });

    it('legacy embeddings equal embed', T, async () => {
      const legacy = await ollama.embeddings({ model: MODEL_ID, prompt: 'hello' });
      assertVector(assert, legacy.embedding, N_EMBD);
      const r = await ollama.embed({ model: MODEL_ID, input: ['hello', 'world'] });
      assertClose(assert, legacy.embedding, r.embeddings[0], 1e-5, '/api/embeddings and /api/embed');
    });
  });

  describe('errors', () => {
    it('generate with an unknown model is a 404', T, async () => {
      const e = await rejection(ollama.generate({ ...GREEDY_GENERATE, model: 'nope' }));
      assertResponseError(e, 404);
    });

    it('chat with messages that are not a list is a 400', T, async () => {
      const e = await rejection(ollama.chat({ model: MODEL_ID, messages: 'x' }));
      assertResponseError(e, 400);
    });
  });

  // Last: it unloads the model.
  describe('keep_alive', () => {
    it('an empty prompt with keep_alive 0 unloads the model', T, async () => {
      const r = await ollama.generate({ model: MODEL_ID, prompt: '', keep_alive: 0 });
      assert.equal(r.done, true);
      assert.ok(isOurs(r.model), `model ${r.model}`);
      const unloaded = await pollUntil(async () => !(await ollama.ps()).models.some((m) => isOurs(m.name)), 2000);
      assert.ok(unloaded, `still listed by ps after 2 s: ${JSON.stringify(await ollama.ps())}`);
    });
  });
});
