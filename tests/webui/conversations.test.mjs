// Conversations in localStorage: kept across a reload with the settings, renamed, deleted and
// exported; edit-and-resend of a user message and regenerate of the last reply.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';

import {
  SLOW,
  STORIES,
  T,
  assertNoProblems,
  gotoChat,
  lastReplyText,
  messages,
  openPage,
  reloadChat,
  sel,
  sendAndWait,
  serverAndBrowser,
  setField,
  storedConversations,
  waitIdle,
} from './helpers.mjs';

const conversationTitles = (page) =>
  page.locator(`${sel('conversation')} [data-testid="conversation-open"]`).allTextContents();

describe('conversations', () => {
  const ctx = serverAndBrowser();

  it('keeps the conversation and the settings across a reload', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      // The second model, so that "remembered" differs from the default choice (the first).
      await page.selectOption(sel('model-select'), SLOW);
      await setField(page, 'system-prompt', 'You are terse.\nAnswer in one line.');
      await setField(page, 'temperature', 0.3);
      await setField(page, 'top-p', 0.9);
      await setField(page, 'max-tokens', 6);
      await setField(page, 'seed', 1234);
      const body = await sendAndWait(page, 'Hello there');
      assert.deepEqual(body.messages, [
        { role: 'system', content: 'You are terse.\nAnswer in one line.' },
        { role: 'user', content: 'Hello there' },
      ]);
      assert.equal(body.model, SLOW);
      assert.equal(body.temperature, 0.3);
      assert.equal(body.top_p, 0.9);
      assert.equal(body.max_tokens, 6);
      assert.equal(body.seed, 1234);
      const reply = await lastReplyText(page);
      assert.ok(reply.length > 0);

      await reloadChat(page);
      assert.equal(await page.inputValue(sel('model-select')), SLOW);
      assert.equal(await page.inputValue(sel('system-prompt')), 'You are terse.\nAnswer in one line.');
      assert.equal(await page.inputValue(sel('temperature')), '0.3');
      assert.equal(await page.inputValue(sel('top-p')), '0.9');
      assert.equal(await page.inputValue(sel('max-tokens')), '6');
      assert.equal(await page.inputValue(sel('seed')), '1234');
      assert.deepEqual(await conversationTitles(page), ['Hello there']);
      await assert.doesNotReject(messages(page).nth(1).waitFor());
      assert.equal(await messages(page).count(), 2);
      assert.equal(await messages(page).nth(0).getAttribute('data-role'), 'user');
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'Hello there');
      assert.equal(await lastReplyText(page), reply);
      // Stats survive too.
      await messages(page).nth(1).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('renames, exports and deletes conversations', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'max-tokens', 12);
      await setField(page, 'temperature', 0);
      await sendAndWait(page, 'The first chat');
      await page.click(sel('new-chat'));
      assert.equal(await messages(page).count(), 0, 'a new chat starts empty');
      await sendAndWait(page, 'The second chat');
      assert.deepEqual(await conversationTitles(page), ['The second chat', 'The first chat']);

      // Rename the first chat (the one lower in the list) by keyboard.
      const first = page.locator(sel('conversation')).filter({ hasText: 'The first chat' });
      await first.locator(sel('conversation-rename')).click();
      const input = page.locator(sel('conversation-rename-input'));
      await input.fill('Stories about a cat');
      await input.press('Enter');
      assert.deepEqual(await conversationTitles(page), ['The second chat', 'Stories about a cat']);
      await reloadChat(page);
      assert.deepEqual(await conversationTitles(page), ['The second chat', 'Stories about a cat']);

      // Escape cancels a rename.
      await page.locator(sel('conversation')).nth(0).locator(sel('conversation-rename')).click();
      await page.locator(sel('conversation-rename-input')).fill('not this');
      await page.locator(sel('conversation-rename-input')).press('Escape');
      assert.deepEqual(await conversationTitles(page), ['The second chat', 'Stories about a cat']);

      // Export the renamed one: open it, then download its JSON.
      await page.locator(sel('conversation')).filter({ hasText: 'Stories about a cat' }).locator(sel('conversation-open')).click();
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'The first chat');
      const stored = (await storedConversations(page)).find((c) => c.title === 'Stories about a cat');
      const downloading = page.waitForEvent('download');
      await page.click(sel('export'));
      const download = await downloading;
      assert.match(download.suggestedFilename(), /^owl-stories-about-a-cat\.json$/);
      const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
      assert.equal(exported.title, 'Stories about a cat');
      assert.equal(exported.messages.length, 2);
      assert.deepEqual(
        exported.messages.map((m) => [m.role, m.content]),
        stored.messages.map((m) => [m.role, m.content]),
      );
      assert.equal(exported.messages[0].content, 'The first chat');
      assert.equal(exported.messages[1].model, STORIES);
      assert.ok(exported.messages[1].stats.completion_tokens > 0);

      // Delete it: the other stays, and stays after a reload.
      await page.locator(sel('conversation')).filter({ hasText: 'Stories about a cat' }).locator(sel('conversation-delete')).click();
      assert.deepEqual(await conversationTitles(page), ['The second chat']);
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'The second chat');
      await reloadChat(page);
      assert.deepEqual(await conversationTitles(page), ['The second chat']);
      assert.equal((await storedConversations(page)).length, 1);

      // Deleting the last one leaves one empty chat.
      await page.locator(sel('conversation-delete')).click();
      assert.deepEqual(await conversationTitles(page), ['New chat']);
      assert.equal(await messages(page).count(), 0);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('edit-and-resend truncates what followed; regenerate replaces the last reply (greedy: the same text)', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'temperature', 0);
      await setField(page, 'max-tokens', 30);
      await sendAndWait(page, 'Once upon a time');
      await sendAndWait(page, 'The dog ran');
      assert.equal(await messages(page).count(), 4);
      const before = await lastReplyText(page);
      assert.ok(before.length > 0);

      // Regenerate: the same history is sent again, the reply is replaced, greedy gives the same.
      const regenRequest = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
      await page.click(sel('regenerate'));
      const regen = (await regenRequest).postDataJSON();
      await waitIdle(page);
      assert.deepEqual(
        regen.messages.map((m) => m.role),
        ['user', 'assistant', 'user'],
        'regenerate sends the history without the old reply',
      );
      assert.equal(await messages(page).count(), 4);
      assert.equal(await lastReplyText(page), before);
      assert.equal(await page.locator(sel('regenerate')).count(), 1, 'only the last reply has Regenerate');

      // Edit the first message: everything after it goes, the edited text is sent alone.
      await messages(page).nth(0).locator(sel('message-edit')).click();
      const editor = page.locator(sel('message-edit-input'));
      assert.equal(await editor.inputValue(), 'Once upon a time');
      await editor.fill('A little cat');
      const editRequest = page.waitForRequest((r) => r.url().endsWith('/v1/chat/completions'));
      await page.click(sel('message-edit-save'));
      const edited = (await editRequest).postDataJSON();
      await waitIdle(page);
      assert.deepEqual(edited.messages, [{ role: 'user', content: 'A little cat' }]);
      assert.equal(await messages(page).count(), 2);
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'A little cat');

      // The new reply is the server's greedy reply to the edited message alone.
      const direct = await fetch(`${ctx.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: STORIES, messages: edited.messages, temperature: 0, max_tokens: 30, top_p: edited.top_p }),
      });
      const expected = (await direct.json()).choices[0].message.content;
      const [conv] = await storedConversations(page);
      assert.equal(conv.messages.length, 2);
      assert.equal(conv.messages[1].content, expected);
      assert.equal(conv.title, 'A little cat', 'the title follows the edited first message');

      // Cancel leaves the message as it was.
      await messages(page).nth(0).locator(sel('message-edit')).click();
      await page.locator(sel('message-edit-input')).fill('never sent');
      await page.click(sel('message-edit-cancel'));
      assert.equal(await messages(page).count(), 2);
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'A little cat');
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
