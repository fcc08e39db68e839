// Errors the page must show clearly: a 4xx answer's message, a server that is gone, an error sent
// in the middle of a stream, and a server that lists no models.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  STORIES,
  T,
  assertNoProblems,
  gotoChat,
  lastAssistant,
  lastReplyText,
  openPage,
  sel,
  serverAndBrowser,
  setField,
  startServer,
  waitIdle,
} from './helpers.mjs';

async function send(page, text) {
  await page.fill(sel('message-input'), text);
  await page.press(sel('message-input'), 'Enter');
  await waitIdle(page);
}

describe('errors', () => {
  const ctx = serverAndBrowser();

  it('shows the message of a 400 answer, and the next good send clears it', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'temperature', 5); // the server allows 0 to 2
      await setField(page, 'max-tokens', 10);
      await send(page, 'Once upon a time');
      const error = page.locator(sel('error'));
      await error.waitFor({ state: 'visible' });
      const text = await error.textContent();
      assert.match(text, /temperature/);
      assert.match(text, /between 0 and 2/);
      assert.match(text, /HTTP 400/);
      // The failed reply says so too; the user's message stays, to be sent again.
      assert.match(await lastAssistant(page).textContent(), /between 0 and 2/);

      await setField(page, 'temperature', 0);
      await page.click(sel('regenerate'));
      await waitIdle(page);
      await lastAssistant(page).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();
      assert.ok(await error.isHidden());
      assert.equal(await page.locator(sel('message')).count(), 2);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('says when the server cannot be reached', T, async () => {
    const own = await startServer();
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, own.url);
      await own.stop();
      await send(page, 'Hello?');
      const error = page.locator(sel('error'));
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /Cannot reach the server.*owl serve running/);
      assertNoProblems(problems);
    } finally {
      await context.close();
      await own.stop();
    }
  });

  it('shows an error sent in the middle of a stream, keeping the text before it', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      const chunk = (o) => `data: ${JSON.stringify(o)}\n\n`;
      const base = { id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 1, model: STORIES };
      await page.route('**/v1/chat/completions', (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/event-stream',
          body:
            chunk({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }) +
            chunk({ ...base, choices: [{ index: 0, delta: { content: 'The first words' }, finish_reason: null }] }) +
            chunk({ error: { message: 'the model ran out of memory', type: 'server_error' } }),
        }),
      );
      await send(page, 'Hello');
      assert.match(await lastReplyText(page), /^The first words/);
      assert.match(await lastAssistant(page).textContent(), /ran out of memory/);
      const error = page.locator(sel('error'));
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /stopped the reply: the model ran out of memory/);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('says when the server lists no models, and offers to try again', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      let empty = true;
      await page.route('**/v1/models', (route) =>
        empty ? route.fulfill({ status: 200, contentType: 'application/json', body: '{"object":"list","data":[]}' }) : route.continue(),
      );
      await page.goto(`${ctx.url}/`);
      const error = page.locator(sel('error'));
      await error.waitFor({ state: 'visible' });
      assert.match(await error.textContent(), /no models/i);
      assert.ok(await page.locator(sel('model-select')).isDisabled());
      assert.ok(await page.locator(sel('send')).isDisabled());

      empty = false;
      await page.click(sel('error-retry'));
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="model-select"] option[value]:not([value=""])').length === 2);
      assert.ok(await error.isHidden());
      assert.ok(await page.locator(sel('send')).isEnabled());
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
