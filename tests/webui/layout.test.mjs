// Phone width and keyboard use: at 375x740 nothing scrolls sideways, the conversation list hides
// behind a button and the composer works; with the keyboard alone a message is typed and sent,
// and focus is visible.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  STORIES,
  T,
  assertNoProblems,
  gotoChat,
  lastAssistant,
  messages,
  openPage,
  pollUntil,
  reloadChat,
  sel,
  serverAndBrowser,
  setField,
  waitIdle,
} from './helpers.mjs';

const PHONE = { width: 375, height: 740 };

async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const out = [];
    const d = document.documentElement;
    if (d.scrollWidth > d.clientWidth) out.push(`document ${d.scrollWidth} > ${d.clientWidth}`);
    if (document.body.scrollWidth > document.body.clientWidth) out.push(`body ${document.body.scrollWidth}`);
    const m = document.getElementById('messages');
    if (m.scrollWidth > m.clientWidth) out.push(`messages ${m.scrollWidth} > ${m.clientWidth}`);
    return out;
  });
}

async function insideViewport(locator, width) {
  const box = await locator.boundingBox();
  return box !== null && box.x >= 0 && box.x + box.width <= width && box.width > 0;
}

describe('layout and keyboard', () => {
  const ctx = serverAndBrowser();

  it('fits a 375 px phone: no sideways scrolling, the list behind a button, a working composer', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser, { viewport: PHONE });
    try {
      await gotoChat(page, ctx.url);
      // A stored reply with a wide code block and a long word, the usual causes of overflow.
      await page.evaluate(() => {
        const wide = `\`\`\`\n${'x'.repeat(300)} = ${'y'.repeat(100)}\n\`\`\`\n\n${'averyveryverylongword'.repeat(12)} https://example.com/${'p'.repeat(120)}`;
        const conv = {
          id: 'wide',
          title: 'A conversation with a very long title that cannot fit on a phone screen at all',
          created: Date.now(),
          updated: Date.now(),
          messages: [
            { role: 'user', content: `Show me ${'wide'.repeat(40)} things` },
            { role: 'assistant', content: wide, model: 'stories260K' },
          ],
        };
        localStorage.setItem('owl.conversations', JSON.stringify([conv]));
        localStorage.setItem('owl.current', 'wide');
      });
      await reloadChat(page);
      assert.deepEqual(await horizontalOverflow(page), []);

      // The conversation list is hidden behind the "Chats" button.
      const list = page.locator(sel('conversation-list'));
      assert.ok(!(await list.isVisible()), 'the conversation list is collapsed');
      const menu = page.locator('#menu-toggle');
      assert.ok(await menu.isVisible());
      assert.equal(await menu.getAttribute('aria-expanded'), 'false');
      await menu.click();
      await list.waitFor({ state: 'visible' });
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      // The drawer slides in: poll until it has arrived.
      assert.ok(await pollUntil(() => insideViewport(page.locator(sel('new-chat')), PHONE.width), 5_000));
      await page.keyboard.press('Escape');
      await list.waitFor({ state: 'hidden' });
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'menu-toggle', 'focus returns to the button');

      // Start a new chat from the drawer; picking closes it.
      await menu.click();
      await page.click(sel('new-chat'));
      await list.waitFor({ state: 'hidden' });
      assert.equal(await messages(page).count(), 0);

      // The composer: visible, inside the screen, sends with a tap.
      for (const id of ['message-input', 'send', 'model-select', 'license']) {
        assert.ok(await insideViewport(page.locator(sel(id)), PHONE.width), `${id} is inside the screen`);
      }
      await page.selectOption(sel('model-select'), STORIES);
      await menu.click();
      await setField(page, 'max-tokens', 40);
      await page.keyboard.press('Escape');
      await page.fill(sel('message-input'), 'Once upon a time');
      await page.click(sel('send'));
      await waitIdle(page);
      await lastAssistant(page).locator(`${sel('reply-stats')}[data-completion-tokens]`).waitFor();
      assert.deepEqual(await horizontalOverflow(page), []);
      assert.ok(await insideViewport(lastAssistant(page), PHONE.width));
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('works from the keyboard alone: Tab to the message box, Shift+Enter, Enter sends', T, async () => {
    const { context, page, problems } = await openPage(ctx.browser);
    try {
      await gotoChat(page, ctx.url);
      await page.selectOption(sel('model-select'), STORIES);
      await setField(page, 'max-tokens', 20);
      await reloadChat(page);

      // From the top of the page, Tab until the message box has focus.
      await page.evaluate(() => document.activeElement?.blur());
      const seen = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const focused = await page.evaluate(() => {
          const e = document.activeElement;
          return e ? e.dataset.testid || e.id || e.tagName : '';
        });
        seen.push(focused);
        if (focused === 'message-input') break;
      }
      assert.equal(seen[seen.length - 1], 'message-input', `Tab order: ${seen.join(' → ')}`);
      for (const id of ['new-chat', 'system-prompt', 'temperature', 'model-select']) {
        assert.ok(seen.includes(id), `${id} is reached by Tab: ${seen.join(' → ')}`);
      }

      await page.keyboard.type('Once upon a time');
      await page.keyboard.press('Shift+Enter');
      await page.keyboard.type('there was');
      assert.equal(await page.inputValue(sel('message-input')), 'Once upon a time\nthere was', 'Shift+Enter adds a line');
      assert.equal(await messages(page).count(), 0, 'Shift+Enter does not send');
      await page.keyboard.press('Enter');
      await waitIdle(page);
      assert.equal(await messages(page).count(), 2);
      assert.equal(await messages(page).nth(0).locator(sel('message-content')).textContent(), 'Once upon a time\nthere was');
      assert.equal(await page.inputValue(sel('message-input')), '', 'the box is emptied');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'message-input', 'focus stays in the box');

      // Focus is visible: a focused control, reached by keyboard, draws an outline.
      await page.keyboard.press('Shift+Tab');
      const outlined = await page.evaluate(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        return { what: e.dataset.testid || e.id || e.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
      });
      assert.notEqual(outlined.style, 'none', `${outlined.what} has no focus outline`);
      assert.ok(outlined.width >= 1, `${outlined.what}'s focus outline is ${outlined.width}px`);

      // Every control has an accessible name, and every clickable thing is a <button>.
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('input, select, textarea, button')]
          .filter((e) => !e.closest('[hidden]'))
          .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
          .map((e) => e.outerHTML.slice(0, 80)),
      );
      assert.deepEqual(unnamed, []);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
