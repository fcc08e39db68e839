// Model output is untrusted: a stored conversation whose reply holds script, event handlers, a
// javascript: link and a remote image must run nothing, load nothing and show the text as text;
// the page is served with a Content-Security-Policy that forbids the rest. The Markdown that is
// rendered becomes the elements it should.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { T, assertNoProblems, gotoChat, openPage, reloadChat, sel, serverAndBrowser } from './helpers.mjs';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HOSTILE = [
  'Here is some HTML:',
  '',
  '<script>window.__pwned=1</script>',
  '',
  '<img src=x onerror="window.__pwned=2">',
  '',
  '[x](javascript:window.__pwned=3)',
  '',
  '![y](http://example.invalid/p.png)',
  '',
  '<a href="javascript:window.__pwned=4">click</a> <iframe src="http://example.invalid/"></iframe>',
  '',
  '[data](data:text/html,<script>window.__pwned=5</script>) and <svg onload="window.__pwned=6"></svg>',
].join('\n');

function storedConversation(content, extra = {}) {
  return {
    id: 'stored-1',
    title: '<img src=x onerror="window.__pwned=7"> a title',
    created: Date.now(),
    updated: Date.now(),
    messages: [
      { role: 'user', content: '<b>not bold</b> <script>window.__pwned=8</script>' },
      { role: 'assistant', content, model: '<i>model</i>' },
    ],
    ...extra,
  };
}

async function loadStored(page, url, conversation) {
  await gotoChat(page, url);
  await page.evaluate((c) => {
    localStorage.setItem('owl.conversations', JSON.stringify([c]));
    localStorage.setItem('owl.current', c.id);
  }, conversation);
  await reloadChat(page);
}

describe('security', () => {
  const ctx = serverAndBrowser();

  it('serves the page, its script and its style with the Content-Security-Policy', T, async () => {
    for (const [path, type] of [
      ['/', /^text\/html/],
      ['/ui/app.js', /^text\/javascript/],
      ['/ui/app.css', /^text\/css/],
    ]) {
      const r = await fetch(`${ctx.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.match(r.headers.get('content-type'), type, path);
      assert.equal(r.headers.get('content-security-policy'), CSP, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      await r.arrayBuffer();
    }
    // The HTML itself has no inline script or style for the policy to block.
    const html = await (await fetch(`${ctx.url}/`)).text();
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i, 'no inline <script>');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
  });

  it('renders hostile model output as inert text', T, async () => {
    const { context, page, problems, requests } = await openPage(ctx.browser);
    try {
      const response = await page.goto(`${ctx.url}/`);
      assert.equal(response.headers()['content-security-policy'], CSP);
      await loadStored(page, ctx.url, storedConversation(HOSTILE));

      const reply = page.locator(`${sel('message')}[data-role="assistant"] ${sel('message-content')}`);
      await reply.waitFor();
      assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no injected code ran');

      const inMessages = (q) => page.evaluate((s) => document.querySelectorAll(`#thread ${s}`).length, q);
      for (const tag of ['script', 'img', 'iframe', 'svg', 'object', 'embed', 'b', 'i']) {
        assert.equal(await inMessages(tag), 0, `no <${tag}> inside the messages`);
      }
      assert.equal(await inMessages('a'), 0, 'neither the javascript: nor the data: link became a link');
      assert.equal(await inMessages('[onerror], [onload], [onclick]'), 0);
      assert.equal(await page.evaluate(() => document.querySelectorAll('#conversation-list img, #conversation-list script').length), 0);

      // The raw text is shown literally.
      const text = await reply.textContent();
      for (const literal of [
        '<script>window.__pwned=1</script>',
        '<img src=x onerror="window.__pwned=2">',
        '[x](javascript:window.__pwned=3)',
        '<a href="javascript:window.__pwned=4">click</a>',
        '<svg onload="window.__pwned=6"></svg>',
      ]) {
        assert.ok(text.includes(literal), `shown literally: ${literal}\n--- shown ---\n${text}`);
      }
      assert.ok(text.includes('y'), 'the image is shown as its alt text');
      assert.ok(!text.includes('example.invalid/p.png'), 'the image URL is not shown as content');
      const user = await page.locator(`${sel('message')}[data-role="user"] ${sel('message-content')}`).textContent();
      assert.equal(user, '<b>not bold</b> <script>window.__pwned=8</script>');
      assert.ok((await page.locator(`${sel('conversation')}`).textContent()).includes('<img src=x onerror="window.__pwned=7"> a title'));
      assert.ok((await page.locator(`${sel('message')}[data-role="assistant"] .msg-who`).textContent()).includes('<i>model</i>'));

      // Nothing was fetched from anywhere but the server.
      await page.waitForTimeout(300);
      assert.deepEqual(requests.filter((u) => u.includes('example.invalid')), []);
      const origin = new URL(ctx.url).origin;
      assert.deepEqual(
        requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:')),
        [],
        'every request goes to the server',
      );
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });

  it('renders Markdown as elements: only http(s) links, with rel=noopener noreferrer', T, async () => {
    const { context, page, problems, requests } = await openPage(ctx.browser);
    try {
      const md = [
        '# Title',
        '## Sub',
        '### Small',
        '#### not a heading',
        '',
        'Some **bold**, *italic*, _also italic_ and `inline <code>` text,',
        'on two lines. A snake_case_name and 2 * 3 * 4 stay as they are.',
        '',
        '- one',
        '- two with [a link](https://example.com/docs?q=1)',
        '  - nested',
        '',
        '1. first',
        '2. second',
        '',
        '```js',
        'const x = "<b>" + 1;',
        '',
        'if (x) { y(); }',
        '```',
        '',
        '> quoted',
        '',
        '[plain http](http://example.com/) [relative](/v1/models) [mail](mailto:a@b.c)',
      ].join('\n');
      await loadStored(page, ctx.url, storedConversation(md));
      const body = page.locator(`${sel('message')}[data-role="assistant"] ${sel('message-content')}`);
      await body.waitFor();
      const shape = await body.evaluate((root) => {
        const texts = (q) => [...root.querySelectorAll(q)].map((e) => e.textContent);
        return {
          headings: texts('h3, h4, h5'),
          strong: texts('strong'),
          em: texts('em'),
          inlineCode: texts('p code'),
          ul: [...root.querySelectorAll(':scope > ul > li')].length,
          nested: texts('ul ul li'),
          ol: texts('ol > li'),
          code: texts('pre code'),
          quote: texts('blockquote'),
          br: root.querySelectorAll('p br').length,
          links: [...root.querySelectorAll('a')].map((a) => [a.textContent, a.getAttribute('href'), a.rel, a.target]),
        };
      });
      assert.deepEqual(shape.headings, ['Title', 'Sub', 'Small']);
      assert.deepEqual(shape.strong, ['bold']);
      assert.deepEqual(shape.em, ['italic', 'also italic']);
      assert.deepEqual(shape.inlineCode, ['inline <code>']);
      assert.equal(shape.ul, 2);
      assert.deepEqual(shape.nested, ['nested']);
      assert.deepEqual(shape.ol, ['first', 'second']);
      assert.deepEqual(shape.code, ['const x = "<b>" + 1;\n\nif (x) { y(); }']);
      assert.deepEqual(shape.quote, ['quoted']);
      assert.ok(shape.br >= 1, 'a single newline is a line break');
      assert.deepEqual(shape.links, [
        ['a link', 'https://example.com/docs?q=1', 'noopener noreferrer', '_blank'],
        ['plain http', 'http://example.com/', 'noopener noreferrer', '_blank'],
      ]);
      const text = await body.textContent();
      assert.ok(text.includes('#### not a heading'));
      assert.ok(text.includes('snake_case_name and 2 * 3 * 4 stay'));
      assert.ok(text.includes('[relative](/v1/models)') && text.includes('[mail](mailto:a@b.c)'));
      assert.deepEqual(requests.filter((u) => u.includes('example.com')), [], 'links are not fetched');
      assertNoProblems(problems);
    } finally {
      await context.close();
    }
  });
});
