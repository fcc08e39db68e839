// The chat page against a live `owl serve --models DIR`: the model picker and license line, a
// streamed reply and its statistics, Stop (button and Escape) freeing the server's slot, and a
// switch of model.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import {
  HOOK_TIMEOUT,
  SLOW,
  STORIES,
  T,
  assertNoProblems,
  gotoChat,
  lastAssistant,
  lastReplyText,
  messages,
  metric,
  openPage,
  pollUntil,
  sel,
  sendAndWait,
  serverAndBrowser,
  setField,
  slowMaxTokens,
  storedConversations,
  waitIdle,
} from './helpers.mjs';

describe('chat', () => {
  const ctx = serverAndBrowser();
  let longReply; // max_tokens for a slow-model reply of several seconds on this machine

  before(async () => {
    // Measured on a short reply; a longer one slows down as its context grows, and the browser
    // shares the CPU: 3 s of the measured speed last about 5 to 10 s.
    longReply = await slowMaxTokens(ctx.url, 3);
  }, { timeout: HOOK_TIMEOUT });

  it('lists both models, shows the license line and streams a reply with the server’s token counts', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      const ids = await page.locator(`${sel('model-select')} option`).evaluateAll((os) => os.map((o) => o.value));
      assert.deepEqual([...ids].sort(), [STORIES, SLOW].sort());

      await page.selectOption(sel('model-select'), STORIES);
      const show = await (
        await fetch(`${ctx.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: STORIES }) })
      ).json();
      const expected = show.license ? `license: ${show.license.split('\n')[0].trim()}` : 'license: unknown';
      await page.waitForFunction(
        (want) => {
          const t = document.querySelector('[data-testid="license"]').textContent;
          return t === want || (want.length > 70 && t.startsWith(want.slice(0, 60)));
        },
        expected,
      );

      await setField(page, 'temperature', 0);
      await setField(page, 'max-tokens', 40);
      const generatedBefore = await metric(ctx.url, 'owl_tokens_generated_total');
      const body = await sendAndWait(page, 'Once upon a time');
      const generated = (await metric(ctx.url, 'owl_tokens_generated_total')) - generatedBefore;
      assert.equal(body.model, STORIES);
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, { include_usage: true });
      assert.equal(body.temperature, 0);
      assert.equal(body.max_tokens, 40);
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Once upon a time' }]);

      // The counts shown are the server's: its generated-tokens counter moved by as many, and the
      // same greedy request asked again gives the same text and prompt size.
      const stats = lastAssistant(page).locator(sel('reply-stats'));
      await stats.waitFor({ state: 'visible' });
      const completion = Number(await stats.getAttribute('data-completion-tokens'));
      const prompt = Number(await stats.getAttribute('data-prompt-tokens'));
      const cached = Number(await stats.getAttribute('data-cached-tokens'));
      const tps = Number(await stats.getAttribute('data-tokens-per-second'));
      assert.ok(completion > 0);
      assert.equal(completion, generated, 'owl_tokens_generated_total moved by the count shown');
      const again = await (
        await fetch(`${ctx.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ...body, stream: false, stream_options: undefined }),
        })
      ).json();
      assert.equal(completion, again.usage.completion_tokens);
      assert.equal(prompt, again.usage.prompt_tokens);
      assert.ok(cached >= 0 && cached <= prompt);
      assert.ok(tps > 0);
      const text = await stats.textContent();
      assert.ok(text.includes(`${completion} tokens`), text);
      assert.ok(text.includes(`${tps.toFixed(1)} tokens/s`), text);
      assert.ok(text.includes(`prompt ${prompt} tokens (${cached} cached)`), text);

      // The reply shown is the text generated (rendered: whitespace aside), and stored as sent.
      const reply = again.choices[0].message.content;
      const shown = await lastReplyText(page);
      assert.equal(shown.replace(/\s+/g, ''), reply.replace(/\s+/g, ''));
      const [conv] = await storedConversations(page);
      assert.equal(conv.messages[1].content, reply);
      assert.equal(conv.messages[1].stats.completion_tokens, completion);
      assert.equal(await lastAssistant(page).getAttribute('data-model'), STORIES);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('shows a slow reply growing while it is generated', T, async (t) => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await page.selectOption(sel('model-select'), SLOW);
      await setField(page, 'max-tokens', longReply);
      await page.fill(sel('message-input'), 'Hello');
      await page.press(sel('message-input'), 'Enter');
      await page.locator(sel('stop')).waitFor({ state: 'visible' });

      // Sample the reply's length while the Stop button is up.
      const samples = [];
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const generating = await page.locator(sel('stop')).isVisible();
        samples.push((await lastReplyText(page)).length);
        if (!generating) break;
        await page.waitForTimeout(250);
      }
      await waitIdle(page);
      t.diagnostic(`max_tokens ${longReply}: ${samples.length} samples, ${samples[samples.length - 1]} characters`);
      const growing = samples.filter((n, i) => i > 0 && n > samples[i - 1]).length;
      assert.ok(growing >= 3, `the reply grew only ${growing} times while streaming: ${samples.join(' ')}`);
      assert.ok(samples.some((n) => n > 0 && n < samples[samples.length - 1]), 'partial text was shown before the end');
      await lastAssistant(page).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  for (const how of ['the Stop button', 'Escape']) {
    it(`stops a reply with ${how}: the fetch is aborted, the partial reply stays, the slot is freed`, T, async () => {
      const { context, page, problems } = await openPage(ctx.browser);
      try {
        await gotoChat(page, ctx.url);
        await page.selectOption(sel('model-select'), SLOW);
        await setField(page, 'max-tokens', 1800); // about half a minute or more: never finishes by itself here
        const failed = page.waitForEvent('requestfailed', {
          predicate: (r) => r.url().endsWith('/v1/chat/completions'),
          timeout: 60_000,
        });
        await page.fill(sel('message-input'), 'Tell me everything');
        await page.press(sel('message-input'), 'Enter');
        await page.waitForFunction(
          () => {
            const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
            return all.length && all[all.length - 1].textContent.length > 30;
          },
          null,
          { timeout: 30_000 },
        );
        assert.equal(await metric(ctx.url, 'owl_requests_processing'), 1);

        if (how === 'Escape') await page.keyboard.press('Escape');
        else await page.click(sel('stop'));

        const request = await failed;
        assert.match(request.failure().errorText, /ABORTED/i);
        await waitIdle(page, 10_000);
        const processing = await pollUntil(async () => (await metric(ctx.url, 'owl_requests_processing')) === 0, 5_000);
        assert.ok(processing, 'owl_requests_processing did not drop to 0 within 5 s of Stop');

        // The partial reply stays, marked as stopped, and does not grow any more.
        const partial = await lastReplyText(page);
        assert.ok(partial.length > 30);
        const stats = lastAssistant(page).locator(sel('reply-stats'));
        assert.equal(await stats.getAttribute('data-stopped'), 'true');
        assert.match(await stats.textContent(), /stopped/);
        const generated = await metric(ctx.url, 'owl_tokens_generated_total');
        await page.waitForTimeout(500);
        assert.equal(await lastReplyText(page), partial);
        assert.equal(await metric(ctx.url, 'owl_tokens_generated_total'), generated, 'the server went on generating');
        const [conv] = await storedConversations(page);
        assert.equal(conv.messages.length, 2);
        assert.equal(conv.messages[1].stopped, true);
        assert.ok(conv.messages[1].content.length > 0);
        assert.ok(await page.locator(sel('send')).isVisible());
        assertNoProblems(problems);
      } finally {
        await context.close();
      }
    });
  }

  it('sends to the model picked: switching model changes where the next message goes', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await setField(page, 'max-tokens', 8);
      await page.selectOption(sel('model-select'), STORIES);
      const first = await sendAndWait(page, 'Once upon a time');
      assert.equal(first.model, STORIES);
      assert.equal(await lastAssistant(page).getAttribute('data-model'), STORIES);

      await page.selectOption(sel('model-select'), SLOW);
      const second = await sendAndWait(page, 'And then?');
      assert.equal(second.model, SLOW);
      // The whole conversation goes along, whichever model wrote its earlier replies.
      assert.equal(second.messages.length, 3);
      // The page labels each reply with the model named in the server's stream.
      assert.equal(await lastAssistant(page).getAttribute('data-model'), SLOW);
      assert.match(await lastAssistant(page).locator('.msg-who').textContent(), new RegExp(SLOW));
      assert.equal(await messages(page).nth(1).getAttribute('data-model'), STORIES);
      const [conv] = await storedConversations(page);
      assert.deepEqual(
        conv.messages.map((m) => m.model),
        [undefined, STORIES, undefined, SLOW],
      );

      const ps = await (await fetch(`${ctx.url}/api/ps`)).json();
      const loaded = ps.models.map((m) => m.name || m.model);
      assert.ok(loaded.some((n) => n.startsWith(SLOW)), `the slow model is loaded: ${loaded.join(', ')}`);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
