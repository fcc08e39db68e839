// `owl serve` through the official OpenAI JavaScript client (/v1 routes).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

import {
  HOOK_TIMEOUT,
  MODEL_ID,
  N_EMBD,
  TEST_TIMEOUT,
  assertClose,
  assertVector,
  l2norm,
  referenceChatReply,
  referenceCompletion,
  rejection,
  startServer,
  stopStringFrom,
} from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const STORY = [{ role: 'user', content: 'Tell me a story' }];
const GREEDY_CHAT = { model: MODEL_ID, messages: STORY, temperature: 0, max_tokens: 20 };
const COMPLETION_PROMPT = 'Once upon a time';

function client(url, apiKey = 'unused') {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, timeout: TEST_TIMEOUT });
}

function assertApiError(e, Class, status) {
  assert.ok(e instanceof Class, `expected ${Class.name}, got ${e?.constructor?.name}: ${e?.message}`);
  assert.equal(e.status, status);
  assert.equal(typeof e.error?.message, 'string', 'the body has error.message');
  assert.ok(e.error.message.length > 0, 'error.message is not empty');
}

describe('OpenAI client', () => {
  let server;
  let openai;
  let greedy; // promise of the non-streaming greedy chat completion, shared by several tests

  const greedyChat = () => {
    greedy ??= openai.chat.completions.create(GREEDY_CHAT);
    return greedy;
  };

  before(async () => {
    server = await startServer();
    openai = client(server.url);
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  describe('models', () => {
    it('list contains the served model', T, async () => {
      const page = await openai.models.list();
      const models = page.data;
      assert.ok(Array.isArray(models));
      const m = models.find((x) => x.id === MODEL_ID);
      assert.ok(m, `no ${MODEL_ID} in ${JSON.stringify(models)}`);
      assert.equal(m.object, 'model');
      assert.equal(typeof m.owned_by, 'string');
      assert.ok(Number.isInteger(m.created), 'created is an integer');
    });

    it('retrieve returns the model', T, async () => {
      const m = await openai.models.retrieve(MODEL_ID);
      assert.equal(m.id, MODEL_ID);
      assert.equal(m.object, 'model');
      assert.equal(typeof m.owned_by, 'string');
    });

    it('retrieve of an unknown model is a 404', T, async () => {
      const e = await rejection(openai.models.retrieve('nope'));
      assertApiError(e, OpenAI.NotFoundError, 404);
    });
  });

  describe('chat completions', () => {
    it('non-streaming greedy completion', T, async () => {
      const r = await greedyChat();
      assert.ok(r.id.startsWith('chatcmpl-'), `id ${r.id}`);
      assert.equal(r.object, 'chat.completion');
      assert.equal(r.model, MODEL_ID);
      assert.ok(Number.isInteger(r.created), 'created is an integer');
      assert.equal(r.choices.length, 1);
      const c = r.choices[0];
      assert.equal(c.index, 0);
      assert.equal(c.message.role, 'assistant');
      assert.equal(typeof c.message.content, 'string');
      assert.ok(c.message.content.length > 0, 'content is not empty');
      assert.equal(c.finish_reason, 'length');
      assert.equal(r.usage.completion_tokens, 20);
      assert.ok(r.usage.prompt_tokens > 0);
      assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    });

    it('greedy content equals `owl run --messages`', T, async () => {
      const r = await greedyChat();
      assert.equal(r.choices[0].message.content, referenceChatReply(STORY, 20));
    });

    it('streaming gives the same content and usage', T, async () => {
      const ref = await greedyChat();
      const stream = await openai.chat.completions.create({
        ...GREEDY_CHAT,
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);

      const id = chunks[0].id;
      assert.ok(id.startsWith('chatcmpl-'), `id ${id}`);
      for (const ch of chunks) {
        assert.equal(ch.id, id, 'every chunk has the same id');
        assert.equal(ch.object, 'chat.completion.chunk');
        assert.equal(ch.model, MODEL_ID);
        assert.ok(Number.isInteger(ch.created));
      }
      assert.equal(chunks[0].choices[0].delta.role, 'assistant');

      const last = chunks.at(-1);
      assert.deepEqual(last.choices, []);
      assert.deepEqual(
        {
          prompt_tokens: last.usage.prompt_tokens,
          completion_tokens: last.usage.completion_tokens,
          total_tokens: last.usage.total_tokens,
        },
        {
          prompt_tokens: ref.usage.prompt_tokens,
          completion_tokens: ref.usage.completion_tokens,
          total_tokens: ref.usage.total_tokens,
        },
      );

      const body = chunks.slice(0, -1);
      for (const ch of body) {
        assert.equal(ch.choices.length, 1, 'one choice per chunk before the usage chunk');
        assert.equal(ch.choices[0].index, 0);
      }
      const finals = body.filter((ch) => ch.choices[0].finish_reason);
      assert.equal(finals.length, 1, 'exactly one chunk carries a finish_reason');
      assert.equal(finals[0].choices[0].finish_reason, 'length');
      assert.equal(finals[0].choices[0].delta.content ?? '', '', 'the finish chunk has an empty delta');
      assert.equal(finals[0], body.at(-1), 'the finish chunk is the last before the usage chunk');

      const content = body.map((ch) => ch.choices[0].delta.content ?? '').join('');
      assert.equal(content, ref.choices[0].message.content);
    });

    it('chat.completions.stream helper: finalChatCompletion', T, async () => {
      const ref = await greedyChat();
      const stream = openai.chat.completions.stream(GREEDY_CHAT);
      const final = await stream.finalChatCompletion();
      assert.equal(final.choices[0].message.content, ref.choices[0].message.content);
      assert.equal(final.choices[0].message.role, 'assistant');
      assert.equal(final.choices[0].finish_reason, 'length');
    });

    it('a seed makes sampling repeatable', T, async () => {
      const sampled = async (seed) => {
        const r = await openai.chat.completions.create({
          model: MODEL_ID,
          messages: STORY,
          temperature: 0.9,
          seed,
          max_tokens: 30,
        });
        return r.choices[0].message.content;
      };
      const a = await sampled(7);
      const b = await sampled(7);
      assert.equal(typeof a, 'string');
      assert.ok(a.length > 0);
      assert.equal(b, a, 'the same seed gives the same text');
      const c = await sampled(8);
      const d = await sampled(9);
      assert.ok(c !== a || d !== a, 'seeds 8 and 9 both reproduce seed 7 exactly');
    });

    it('n: 2 gives two choices, identical when greedy', T, async () => {
      const r = await openai.chat.completions.create({ ...GREEDY_CHAT, n: 2 });
      assert.equal(r.choices.length, 2);
      assert.deepEqual(r.choices.map((c) => c.index).sort(), [0, 1]);
      const [c0, c1] = [0, 1].map((i) => r.choices.find((c) => c.index === i));
      assert.equal(typeof c0.message.content, 'string');
      assert.ok(c0.message.content.length > 0);
      assert.equal(c1.message.content, c0.message.content);
      const ref = await greedyChat();
      assert.equal(c0.message.content, ref.choices[0].message.content);
      assert.equal(r.usage.completion_tokens, 40, 'usage counts both choices');
    });

    it('stop cuts the text before the stop string', T, async () => {
      const text = (await greedyChat()).choices[0].message.content;
      const { stop, expected } = stopStringFrom(text);
      const r = await openai.chat.completions.create({ ...GREEDY_CHAT, stop: [stop] });
      assert.equal(r.choices[0].message.content, expected, `stop ${JSON.stringify(stop)} in ${JSON.stringify(text)}`);
      assert.equal(r.choices[0].finish_reason, 'stop');
      assert.ok(r.usage.completion_tokens <= 20);
    });

    it('logprobs with top_logprobs', T, async () => {
      const r = await openai.chat.completions.create({ ...GREEDY_CHAT, logprobs: true, top_logprobs: 3 });
      const c = r.choices[0];
      const ref = await greedyChat();
      assert.equal(c.message.content, ref.choices[0].message.content, 'asking for logprobs does not change the text');
      const entries = c.logprobs?.content;
      assert.ok(Array.isArray(entries), 'choices[0].logprobs.content is a list');
      assert.equal(entries.length, r.usage.completion_tokens, 'one entry per completion token');
      for (const [i, e] of entries.entries()) {
        assert.equal(typeof e.token, 'string', `entry ${i}: token`);
        assert.ok(Number.isFinite(e.logprob) && e.logprob <= 0, `entry ${i}: logprob ${e.logprob}`);
        assert.equal(e.top_logprobs.length, 3, `entry ${i}: three alternatives`);
        for (const t of e.top_logprobs) {
          assert.equal(typeof t.token, 'string');
          assert.ok(Number.isFinite(t.logprob) && t.logprob <= 0);
        }
        for (let k = 1; k < 3; k++) {
          assert.ok(e.top_logprobs[k - 1].logprob >= e.top_logprobs[k].logprob, `entry ${i}: sorted descending`);
        }
        assert.ok(
          Math.abs(e.top_logprobs[0].logprob - e.logprob) <= 1e-5,
          `entry ${i}: greedy picks the most likely token (${e.top_logprobs[0].logprob} vs ${e.logprob})`,
        );
      }
    });
  });

  describe('legacy completions', () => {
    it('greedy text equals `owl run`', T, async () => {
      const reference = referenceCompletion(COMPLETION_PROMPT, 30);
      assert.ok(reference.length > 0);
      const r = await openai.completions.create({
        model: MODEL_ID,
        prompt: COMPLETION_PROMPT,
        max_tokens: 30,
        temperature: 0,
      });
      assert.equal(r.object, 'text_completion');
      assert.equal(r.model, MODEL_ID);
      assert.equal(typeof r.id, 'string');
      assert.ok(Number.isInteger(r.created));
      assert.equal(r.choices.length, 1);
      assert.equal(r.choices[0].index, 0);
      assert.equal(r.choices[0].text, reference);
      assert.equal(r.choices[0].finish_reason, 'length');
      assert.equal(r.usage.completion_tokens, 30);
      assert.ok(r.usage.prompt_tokens > 0);
      assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    });

    it('echo puts the prompt in front', T, async () => {
      const reference = referenceCompletion(COMPLETION_PROMPT, 30);
      const r = await openai.completions.create({
        model: MODEL_ID,
        prompt: COMPLETION_PROMPT,
        max_tokens: 30,
        temperature: 0,
        echo: true,
      });
      const text = r.choices[0].text;
      assert.ok(text.startsWith(COMPLETION_PROMPT), `text ${JSON.stringify(text)}`);
      assert.ok(text.endsWith(reference), `text ${JSON.stringify(text)} does not end with the completion`);
    });

    it('streaming gives the same text', T, async () => {
      const reference = referenceCompletion(COMPLETION_PROMPT, 30);
      const stream = await openai.completions.create({
        model: MODEL_ID,
        prompt: COMPLETION_PROMPT,
        max_tokens: 30,
        temperature: 0,
        stream: true,
      });
      let text = '';
      let finish = null;
      let n = 0;
      for await (const chunk of stream) {
        n++;
        assert.equal(chunk.object, 'text_completion');
        for (const c of chunk.choices) {
          text += c.text ?? '';
          if (c.finish_reason) finish = c.finish_reason;
        }
      }
      assert.ok(n > 1, 'more than one chunk');
      assert.equal(text, reference);
      assert.equal(finish, 'length');
    });
  });

  describe('embeddings', () => {
    it('default (base64) encoding, decoded by the client', T, async () => {
      const r = await openai.embeddings.create({ model: MODEL_ID, input: 'hello world' });
      assert.equal(r.object, 'list');
      assert.equal(r.data.length, 1);
      assert.equal(r.data[0].object, 'embedding');
      assert.equal(r.data[0].index, 0);
      assertVector(assert, r.data[0].embedding, N_EMBD);
      assert.ok(Math.abs(l2norm(r.data[0].embedding) - 1) <= 1e-3, `norm ${l2norm(r.data[0].embedding)}`);
      assert.ok(r.usage.prompt_tokens > 0);
    });

    it('float encoding gives the same numbers', T, async () => {
      const b64 = await openai.embeddings.create({ model: MODEL_ID, input: 'hello world' });
      const flt = await openai.embeddings.create({ model: MODEL_ID, input: 'hello world', encoding_format: 'float' });
      assertVector(assert, flt.data[0].embedding, N_EMBD);
      assertClose(assert, flt.data[0].embedding, b64.data[0].embedding, 1e-6, 'float and base64 embeddings');
    });

    it('a list of two strings gives two embeddings', T, async () => {
      const r = await openai.embeddings.create({ model: MODEL_ID, input: ['hello world', 'a big red ball'] });
      assert.equal(r.data.length, 2);
      const byIndex = [0, 1].map((i) => r.data.find((d) => d.index === i));
      for (const d of byIndex) {
        assert.ok(d, 'indices 0 and 1 are present');
        assertVector(assert, d.embedding, N_EMBD);
        assert.ok(Math.abs(l2norm(d.embedding) - 1) <= 1e-3);
      }
      const single = await openai.embeddings.create({ model: MODEL_ID, input: 'hello world' });
      assertClose(assert, byIndex[0].embedding, single.data[0].embedding, 1e-5, 'batched and single embeddings');
      assert.ok(r.usage.prompt_tokens > single.usage.prompt_tokens, 'usage counts both inputs');
    });

    it('token arrays as input', T, async () => {
      const r = await openai.embeddings.create({ model: MODEL_ID, input: [[1, 2, 3]], encoding_format: 'float' });
      assert.equal(r.data.length, 1);
      assert.equal(r.data[0].index, 0);
      assertVector(assert, r.data[0].embedding, N_EMBD);
      assert.ok(Math.abs(l2norm(r.data[0].embedding) - 1) <= 1e-3);
      assert.ok(r.usage.prompt_tokens > 0);
    });
  });

  describe('errors', () => {
    it('unknown model is a 404', T, async () => {
      const e = await rejection(openai.chat.completions.create({ ...GREEDY_CHAT, model: 'no-such-model' }));
      assertApiError(e, OpenAI.NotFoundError, 404);
    });

    it('messages that are not a list are a 400', T, async () => {
      const e = await rejection(openai.chat.completions.create({ ...GREEDY_CHAT, messages: 'not a list' }));
      assertApiError(e, OpenAI.BadRequestError, 400);
    });

    it('a negative temperature is a 400', T, async () => {
      const e = await rejection(openai.chat.completions.create({ ...GREEDY_CHAT, temperature: -1 }));
      assertApiError(e, OpenAI.BadRequestError, 400);
    });

    it('a negative max_tokens is a 400', T, async () => {
      const e = await rejection(openai.chat.completions.create({ ...GREEDY_CHAT, max_tokens: -5 }));
      assertApiError(e, OpenAI.BadRequestError, 400);
    });
  });
});

describe('OpenAI client with --api-key', () => {
  let server;

  before(async () => {
    server = await startServer(['--api-key', 'sekret']);
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  it('a wrong key is a 401', T, async () => {
    const e = await rejection(client(server.url, 'wrong').models.list());
    assertApiError(e, OpenAI.AuthenticationError, 401);
    const e2 = await rejection(
      client(server.url, 'wrong').chat.completions.create({ ...GREEDY_CHAT, max_tokens: 2 }),
    );
    assertApiError(e2, OpenAI.AuthenticationError, 401);
  });

  it('the right key works', T, async () => {
    const c = client(server.url, 'sekret');
    const models = await c.models.list();
    assert.ok(models.data.some((m) => m.id === MODEL_ID));
    const r = await c.chat.completions.create({ ...GREEDY_CHAT, max_tokens: 2 });
    assert.equal(r.usage.completion_tokens, 2);
  });

  it('GET /health needs no key', T, async () => {
    const r = await fetch(`${server.url}/health`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
  });

  it('a request without any key is a 401', T, async () => {
    const r = await fetch(`${server.url}/v1/models`);
    assert.equal(r.status, 401);
    await r.arrayBuffer();
  });
});
