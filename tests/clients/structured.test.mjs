// Structured output of `owl serve` through the official clients: OpenAI's response_format
// (json_schema read back with the client's own parse helper, json_object, streamed), llama-server's
// "grammar" field, and Ollama's format (a schema, or "json"). The model writes stories; only the
// grammar makes its replies JSON, so every check below fails without it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

import { HOOK_TIMEOUT, MODEL_ID, TEST_TIMEOUT, rejection, startServerWithClients } from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const ASK = [{ role: 'user', content: 'Describe a person' }];
const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    pet: { enum: ['cat', 'dog', null] },
    tags: { type: 'array', items: { type: 'string', maxLength: 6 }, maxItems: 2 },
  },
  required: ['name', 'age', 'pet'],
  additionalProperties: false,
};

// Checks what the schema asks, by hand (the clients carry no validator).
function assertPerson(p) {
  assert.equal(typeof p, 'object');
  assert.ok(p !== null && !Array.isArray(p));
  for (const key of Object.keys(p)) assert.ok(key in PERSON.properties, `unexpected key ${key}`);
  assert.equal(typeof p.name, 'string');
  assert.ok([...p.name].length <= 12, p.name);
  assert.ok(Number.isInteger(p.age) && p.age >= 0 && p.age <= 120, String(p.age));
  assert.ok(['cat', 'dog', null].includes(p.pet), String(p.pet));
  if ('tags' in p) {
    assert.ok(Array.isArray(p.tags) && p.tags.length <= 2);
    for (const t of p.tags) assert.ok(typeof t === 'string' && [...t].length <= 6);
  }
}

describe('structured output', () => {
  let server;
  let openai;
  let ollama;

  before(async () => {
    ({ server, openai, ollama } = await startServerWithClients());
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  it('OpenAI json_schema: the client parses every reply into the schema', T, async () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = await openai.chat.completions.parse({
        model: MODEL_ID,
        messages: ASK,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON, strict: true } },
        temperature: 1,
        seed,
        max_tokens: 300,
      });
      assert.equal(r.choices[0].finish_reason, 'stop');
      assertPerson(r.choices[0].message.parsed);
    }
  });

  it('OpenAI json_object: n choices, each a JSON object (or the start of one at the token limit)', T, async () => {
    const r = await openai.chat.completions.create({
      model: MODEL_ID,
      messages: ASK,
      response_format: { type: 'json_object' },
      temperature: 0.9,
      seed: 7,
      n: 3,
      max_tokens: 400,
    });
    assert.equal(r.choices.length, 3);
    for (const c of r.choices) {
      // A story model writes stories into the free strings: an object may outrun max_tokens.
      assert.ok(c.message.content.startsWith('{'), c.message.content);
      if (c.finish_reason !== 'stop') continue;
      const v = JSON.parse(c.message.content);
      assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), c.message.content);
    }
  });

  it('OpenAI json_schema streamed: the deltas join into a valid document', T, async () => {
    const stream = await openai.chat.completions.create({
      model: MODEL_ID,
      messages: ASK,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: PERSON } },
      temperature: 1,
      seed: 11,
      max_tokens: 300,
      stream: true,
    });
    let text = '';
    let finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'stop');
    assertPerson(JSON.parse(text));
  });

  it("llama-server's grammar field and legacy completions", T, async () => {
    const r = await openai.chat.completions.create({
      model: MODEL_ID,
      messages: ASK,
      grammar: 'root ::= ("yes" | "no") "."',
      temperature: 1,
      seed: 3,
      max_tokens: 20,
    });
    assert.match(r.choices[0].message.content, /^(yes|no)\.$/);
    const c = await openai.completions.create({
      model: MODEL_ID,
      prompt: 'Once upon a time',
      response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'integer', minimum: 10, maximum: 99 } } },
      temperature: 1,
      seed: 5,
      max_tokens: 10,
    });
    assert.match(c.choices[0].text, /^[1-9][0-9]$/);
  });

  it('an unsupported schema or a broken grammar is a 400 that says why', T, async () => {
    const e = await rejection(openai.chat.completions.create({
      model: MODEL_ID,
      messages: ASK,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', patternProperties: {} } } },
    }));
    assert.ok(e instanceof OpenAI.BadRequestError, e?.message);
    assert.match(e.error.message, /'patternProperties' is not supported/);
    const g = await rejection(openai.chat.completions.create({ model: MODEL_ID, messages: ASK, grammar: 'root ::= item' }));
    assert.ok(g instanceof OpenAI.BadRequestError, g?.message);
    assert.match(g.error.message, /rule 'item' is used at line 1, column 10 but never defined/);
    // The server keeps serving.
    const ok = await openai.chat.completions.create({ model: MODEL_ID, messages: ASK, max_tokens: 2 });
    assert.equal(ok.choices.length, 1);
  });

  it('Ollama format: a schema and "json", in chat and generate', T, async () => {
    for (const seed of [1, 2]) {
      const r = await ollama.chat({ model: MODEL_ID, messages: ASK, format: PERSON, options: { temperature: 1, seed, num_predict: 300 } });
      assert.equal(r.done_reason, 'stop');
      assertPerson(JSON.parse(r.message.content));
    }
    const g = await ollama.generate({ model: MODEL_ID, prompt: 'Once upon a time', format: 'json', options: { temperature: 0.8, seed: 4, num_predict: 400 } });
    if (g.done_reason === 'stop') {
      const v = JSON.parse(g.response);
      assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), g.response);
    }
    // Streamed: the pieces join into the document.
    let text = '';
    for await (const part of await ollama.chat({ model: MODEL_ID, messages: ASK, format: PERSON, stream: true, options: { temperature: 1, seed: 9, num_predict: 300 } })) {
      text += part.message.content;
    }
    assertPerson(JSON.parse(text));
    const e = await rejection(ollama.chat({ model: MODEL_ID, messages: ASK, format: 'yaml' }));
    assert.equal(e?.name, 'ResponseError');
    assert.equal(e.status_code, 400);
    assert.match(e.error, /'format' must be "json" or a JSON schema/);
  });
});
