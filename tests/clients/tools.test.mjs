// Tool calls of `owl serve` through the official clients: forced calls (tool_choice "required" or a
// named function) whose arguments match the tool's schema, parallel_tool_calls false, the streamed
// deltas assembled by the OpenAI client's own stream helper, a full round trip with the tool's
// result, and Ollama's tool_calls shape. The story model knows nothing of tools: the grammar makes
// the calls, the parser and the APIs' shapes are what is tested. (Parallel calls are tested on the
// grammar itself: a story model, free to add calls, adds them until it runs out of tokens.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

import { HOOK_TIMEOUT, MODEL_ID, TEST_TIMEOUT, rejection, startServerWithClients } from './helpers.mjs';

const T = { timeout: TEST_TIMEOUT };
const ASK = [{ role: 'user', content: 'What is the weather in Paris?' }];
const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 16 }, unit: { enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
};
const TIME = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'The time in a zone',
    parameters: { type: 'object', properties: { zone: { type: 'string', pattern: '^[A-Z]{3}$' } }, required: ['zone'] },
  },
};

function assertWeatherArgs(text) {
  const a = JSON.parse(text);
  assert.deepEqual(Object.keys(a).sort(), ['city', 'unit']);
  assert.equal(typeof a.city, 'string');
  assert.ok([...a.city].length <= 16);
  assert.ok(['celsius', 'fahrenheit'].includes(a.unit));
}

describe('tool calls', () => {
  let server;
  let openai;
  let ollama;

  before(async () => {
    ({ server, openai, ollama } = await startServerWithClients());
  }, { timeout: HOOK_TIMEOUT });

  after(async () => {
    await server?.stop();
  }, { timeout: HOOK_TIMEOUT });

  it('tool_choice required: a call with arguments valid for its schema, then a round trip', T, async () => {
    for (const seed of [1, 2, 3]) {
      const r = await openai.chat.completions.create({
        model: MODEL_ID, messages: ASK, tools: [WEATHER, TIME], tool_choice: 'required', parallel_tool_calls: false,
        temperature: 1, seed, max_tokens: 200,
      });
      const c = r.choices[0];
      assert.equal(c.finish_reason, 'tool_calls');
      assert.equal(c.message.content, null);
      assert.equal(c.message.tool_calls.length, 1);
      const call = c.message.tool_calls[0];
      assert.equal(call.type, 'function');
      assert.ok(call.id.length > 0);
      assert.ok(['get_weather', 'get_time'].includes(call.function.name));
      if (call.function.name === 'get_weather') assertWeatherArgs(call.function.arguments);
      else assert.match(JSON.parse(call.function.arguments).zone, /^[A-Z]{3}$/);
      // The tool's answer goes back in, and the model replies in words.
      const followUp = await openai.chat.completions.create({
        model: MODEL_ID,
        messages: [...ASK, c.message, { role: 'tool', tool_call_id: call.id, content: '18 degrees and sunny' }],
        tools: [WEATHER, TIME], tool_choice: 'none', temperature: 0, max_tokens: 12,
      });
      assert.equal(typeof followUp.choices[0].message.content, 'string');
      assert.equal(followUp.choices[0].message.tool_calls, undefined);
    }
  });

  it('a named function is the one called', T, async () => {
    const r = await openai.chat.completions.create({
      model: MODEL_ID, messages: ASK, tools: [WEATHER, TIME], parallel_tool_calls: false,
      tool_choice: { type: 'function', function: { name: 'get_weather' } }, temperature: 1, seed: 4, max_tokens: 300,
    });
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    const calls = r.choices[0].message.tool_calls;
    assert.equal(calls.length, 1);
    for (const call of calls) {
      assert.equal(call.function.name, 'get_weather');
      assertWeatherArgs(call.function.arguments);
    }
  });

  it("the client's stream helper assembles the streamed call", T, async () => {
    const stream = openai.chat.completions.stream({
      model: MODEL_ID, messages: ASK, tools: [WEATHER], tool_choice: 'required', parallel_tool_calls: false,
      temperature: 1, seed: 5, max_tokens: 200,
    });
    const done = await stream.finalChatCompletion();
    const c = done.choices[0];
    assert.equal(c.finish_reason, 'tool_calls');
    assert.equal(c.message.tool_calls.length, 1);
    assert.equal(c.message.tool_calls[0].function.name, 'get_weather');
    assertWeatherArgs(c.message.tool_calls[0].function.arguments);
    assert.ok(!c.message.content, 'no call markup in the content');
  });

  it('bad tool requests are 400s that say why', T, async () => {
    let e = await rejection(openai.chat.completions.create({ model: MODEL_ID, messages: ASK, tool_choice: 'required' }));
    assert.ok(e instanceof OpenAI.BadRequestError, e?.message);
    assert.match(e.error.message, /no 'tools'/);
    e = await rejection(openai.chat.completions.create({
      model: MODEL_ID, messages: ASK, tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'launch' } },
    }));
    assert.ok(e instanceof OpenAI.BadRequestError, e?.message);
    assert.match(e.error.message, /'launch', which is not among the tools/);
    e = await rejection(openai.chat.completions.create({ model: MODEL_ID, messages: ASK, tools: [{ type: 'function' }] }));
    assert.ok(e instanceof OpenAI.BadRequestError, e?.message);
  });

  it('Ollama: tool_calls with arguments as an object, whole and streamed, and a round trip', T, async () => {
    // Ollama has no tool_choice; a format in the generic call shape makes this model call.
    const format = {
      type: 'object',
      properties: {
        tool_calls: {
          type: 'array', minItems: 1, maxItems: 1,
          items: {
            type: 'object',
            properties: { name: { const: 'get_weather' }, arguments: WEATHER.function.parameters },
            required: ['name', 'arguments'],
          },
        },
      },
      required: ['tool_calls'],
    };
    const r = await ollama.chat({ model: MODEL_ID, messages: ASK, tools: [WEATHER], format, options: { temperature: 1, seed: 2, num_predict: 200 } });
    assert.equal(r.message.content, '');
    assert.equal(r.message.tool_calls.length, 1);
    assert.equal(r.message.tool_calls[0].function.name, 'get_weather');
    assertWeatherArgs(JSON.stringify(r.message.tool_calls[0].function.arguments));
    let calls = [];
    let text = '';
    for await (const part of await ollama.chat({ model: MODEL_ID, messages: ASK, tools: [WEATHER], format, stream: true, options: { temperature: 1, seed: 3, num_predict: 200 } })) {
      text += part.message.content;
      calls = calls.concat(part.message.tool_calls ?? []);
    }
    assert.equal(text, '', 'no call text leaks into the content');
    assert.equal(calls.length, 1);
    assertWeatherArgs(JSON.stringify(calls[0].function.arguments));
    const followUp = await ollama.chat({
      model: MODEL_ID,
      messages: [...ASK, r.message, { role: 'tool', content: '18 degrees', tool_name: 'get_weather' }],
      tools: [WEATHER], options: { temperature: 0, num_predict: 8 },
    });
    assert.equal(typeof followUp.message.content, 'string');
  });
});
