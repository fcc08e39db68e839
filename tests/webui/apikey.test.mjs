// A server started with --api-key: the page itself loads without a key, asks for one with an
// in-page form, keeps asking after a wrong one, and works once given the right one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  STORIES,
  T,
  assertNoProblems,
  lastAssistant,
  openPage,
  reloadChat,
  sel,
  sendAndWait,
  serverAndBrowser,
  setField,
  waitForModels,
} from './helpers.mjs';

const KEY = 'sekret';

describe('API key', () => {
  const ctx = serverAndBrowser(['--api-key', KEY]);

  it('asks for the key, refuses a wrong one, and chats with the right one', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    const dialogs = [];
    page.on('dialog', (d) => {
      dialogs.push(d.type());
      d.dismiss().catch(() => {});
    });
    try {
      const response = await page.goto(`${ctx.url}/`);
      assert.equal(response.status(), 200, 'the page itself needs no key');
      assert.equal((await fetch(`${ctx.url}/v1/models`)).status, 401, 'the API does');

      const input = page.locator(sel('api-key-input'));
      await input.waitFor({ state: 'visible' });
      assert.ok(await page.locator(sel('model-select')).isDisabled(), 'no models without a key');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'api-key-input');

      // A wrong key: refused, asked again, with an error that says so.
      let tried = page.waitForRequest((r) => r.url().endsWith('/v1/models'));
      await input.fill('wrong-key');
      await page.click(sel('api-key-save'));
      assert.equal((await tried).headers().authorization, 'Bearer wrong-key');
      await page.locator(sel('error')).waitFor({ state: 'visible' });
      assert.match(await page.locator(sel('error')).textContent(), /refused the API key/i);
      await input.waitFor({ state: 'visible' });
      assert.ok(await page.locator(sel('model-select')).isDisabled());

      // The right key, entered with the keyboard alone (Enter submits the form).
      tried = page.waitForRequest((r) => r.url().endsWith('/v1/models'));
      await input.fill(KEY);
      await input.press('Enter');
      assert.equal((await tried).headers().authorization, `Bearer ${KEY}`);
      await waitForModels(page);
      assert.ok(await input.isHidden());
      assert.ok(await page.locator(sel('error')).isHidden());
      assert.equal(await page.evaluate(() => localStorage.getItem('owl.apiKey')), KEY);
      await page.waitForFunction(() => /^license: [^…]/.test(document.querySelector('[data-testid="license"]').textContent));

      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'max-tokens', 10);
      const chat = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
      await sendAndWait(page, 'Once upon a time');
      assert.equal((await chat).headers().authorization, `Bearer ${KEY}`);
      await lastAssistant(page).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();

      // Remembered: a reload loads the models without asking.
      await reloadChat(page);
      assert.ok(await input.isHidden());
      assert.deepEqual(dialogs, [], 'no window.prompt or other dialog');
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('asks again when a send is refused, then sends that message with the new key', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await page.goto(`${ctx.url}/`);
      await page.evaluate((key) => localStorage.setItem('owl.apiKey', key), KEY);
      await reloadChat(page);
      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'max-tokens', 10);

      // The key is revoked while the page is open: the send is answered 401 (by the test, the
      // server's own answer to a wrong key), then goes to the server once a key is entered.
      let refused = 0;
      await page.route('**/v1/chat/completions', (route) => {
        if (refused++ > 0) return route.continue();
        return route.fulfill({
          status: 401,
          contentType: 'application/json',
          body: JSON.stringify({ error: { message: 'a valid API key is required', type: 'invalid_request_error' } }),
        });
      });
      await page.fill(sel('message-input'), 'Hello');
      await page.press(sel('message-input'), 'Enter');
      const input = page.locator(sel('api-key-input'));
      await input.waitFor({ state: 'visible' });
      assert.match(await page.locator(sel('error')).textContent(), /refused the API key/i);
      assert.equal(await page.locator(`${sel('message')}[data-role="assistant"]`).count(), 0, 'no reply yet');

      const retried = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
      await input.fill(KEY);
      await input.press('Enter');
      const body = (await retried).postDataJSON();
      assert.deepEqual(body.messages, [{ role: 'user', content: 'Hello' }], 'the same message, sent once');
      await lastAssistant(page).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();
      assert.equal(await page.locator(sel('message')).count(), 2);
      assert.equal(refused, 2);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
