// Writes docs/webui-light.png and docs/webui-dark.png: the chat page at 1280x800 with a
// conversation, in both color schemes. Run by hand (not by run.sh, so that a test run never
// rewrites docs/), from tests/webui after `npm ci`:
//
//   node screenshots.mjs [OWL_BINARY [OWL_FIXTURES [OUT_DIR]]]
//
// OWL_BINARY defaults to build/owl, OWL_FIXTURES to ../shared/fixtures (both from the repository
// root, or the environment variables of the same names), OUT_DIR to docs/. The conversation holds
// one stored exchange that shows the Markdown rendering (a list and a code block; its reply is
// labelled "example") and two replies generated live by stories260K, with their statistics.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const binary = path.resolve(process.argv[2] || process.env.OWL_BINARY || path.join(repo, 'build', 'owl'));
const fixtures = path.resolve(process.argv[3] || process.env.OWL_FIXTURES || path.join(repo, '..', 'shared', 'fixtures'));
const outDir = path.resolve(process.argv[4] || path.join(repo, 'docs'));
const fixture = path.join(fixtures, 'llama2c-stories260K');

if (!fs.existsSync(path.join(fixture, 'stories260K.bin'))) {
  console.error(`error: fixtures not found at ${fixture}/stories260K.bin`);
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'owl-screenshots-'));
const models = path.join(tmp, 'models');
fs.mkdirSync(models);
const convert = spawnSync(
  binary,
  ['convert', '--from', 'llama2c', path.join(fixture, 'stories260K.bin'), '--tokenizer', path.join(fixture, 'tok512.bin'), '-o', path.join(models, 'stories260K.gguf')],
  { stdio: 'inherit', env: { ...process.env, OWL_STATE_DIR: path.join(tmp, 'state') } },
);
if (convert.status !== 0) process.exit(1);

process.env.OWL_BINARY = binary;
process.env.OWL_TEST_MODEL_DIR = models;
process.env.OWL_TEST_TMP = tmp;
const { launchBrowser, openPage, sendAndWait, startServer, waitForModels } = await import('./helpers.mjs');

const MARKDOWN_REPLY = [
  'Point `owl serve` at the folder: each `.gguf` in it becomes a model named by its file stem.',
  '',
  '```sh',
  'owl serve --models ~/models --port 11435',
  '```',
  '',
  '- **OpenAI** clients: `http://127.0.0.1:11435/v1`',
  '- **Ollama** clients: `http://127.0.0.1:11435`, and this page at the *root*',
].join('\n');

const now = Date.now();
const older = (id, title, minutes, question, answer) => ({
  id,
  title,
  titled: true,
  created: now - minutes * 60_000,
  updated: now - minutes * 60_000,
  messages: [
    { role: 'user', content: question },
    { role: 'assistant', content: answer, model: 'stories260K' },
  ],
});
const conversations = [
  {
    id: 'shot-main',
    title: 'Serving a folder of models',
    titled: true,
    created: now - 60_000,
    updated: now,
    messages: [
      { role: 'user', content: 'How do I serve a whole folder of models?' },
      { role: 'assistant', content: MARKDOWN_REPLY, model: 'example' },
    ],
  },
  older('shot-2', 'A bedtime story about a fox', 90, 'Tell me a story about a fox', 'Once upon a time, there was a little fox.'),
  older('shot-3', 'Lily and the red ball', 300, 'Lily had a red ball', 'She loved to play with it in the park.'),
  older('shot-4', 'Greedy decoding check', 1440, 'Once upon a time', 'there was a little girl named Lily.'),
];
const settings = {
  model: 'stories260K',
  system: 'You tell short, gentle stories for children.',
  temperature: '0.7',
  top_p: '0.95',
  max_tokens: '24',
  seed: '7',
};

const server = await startServer();
const browser = await launchBrowser();
try {
  const { context, page, problems } = await openPage(browser, { viewport: { width: 1280, height: 800 } });
  await page.goto(`${server.url}/`);
  await waitForModels(page, 1);
  await page.evaluate(
    ({ conversations, settings }) => {
      localStorage.clear();
      localStorage.setItem('owl.conversations', JSON.stringify(conversations));
      localStorage.setItem('owl.current', 'shot-main');
      localStorage.setItem('owl.settings', JSON.stringify(settings));
    },
    { conversations, settings },
  );
  await page.reload();
  await waitForModels(page, 1);
  await sendAndWait(page, 'Now a story: once upon a time, there was a little dog');
  await sendAndWait(page, 'What did the dog find in the garden?');
  await page.waitForFunction(() => !/…/.test(document.querySelector('[data-testid="license"]').textContent));
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.mouse.move(0, 799);
  if (problems.length) throw new Error(problems.join('\n'));

  fs.mkdirSync(outDir, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.waitForTimeout(200);
    const file = path.join(outDir, `webui-${scheme}.png`);
    await page.screenshot({ path: file });
    console.log(`wrote ${file}`);
  }
  await context.close();
} finally {
  await browser.close();
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
