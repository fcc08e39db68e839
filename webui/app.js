// The chat page of `owl serve`. Plain JavaScript, no libraries; it talks only to owl's own routes:
// GET /v1/models, POST /api/show (the license line) and POST /v1/chat/completions (streamed).
//
// The page runs under a strict Content-Security-Policy (no inline script or style, nothing
// remote), and the model's output is untrusted text: it is rendered by the small Markdown
// renderer below, which builds DOM nodes with createElement and text nodes only.
//
// What it keeps in localStorage (the tests read and write these):
//   owl.settings      {model, system, temperature, top_p, max_tokens, seed}: the form's strings
//   owl.conversations [{id, title, titled, created, updated, messages: [message]}], where a
//                     message is {role: "user"|"assistant", content, model?, stats?, stopped?,
//                     error?, finish?, streamed?}; stats is {completion_tokens, prompt_tokens,
//                     cached_tokens, tokens_per_second}; finish the finish_reason, streamed the
//                     number of content chunks received
//   owl.current       the id of the conversation shown
//   owl.apiKey        the key sent as `Authorization: Bearer KEY` (only once a server asked)
'use strict';

(() => {
  const KEY_SETTINGS = 'owl.settings';
  const KEY_CONVERSATIONS = 'owl.conversations';
  const KEY_CURRENT = 'owl.current';
  const KEY_API = 'owl.apiKey';

  const DEFAULT_SETTINGS = { model: '', system: '', temperature: '0.8', top_p: '0.95', max_tokens: '512', seed: '' };
  const NEW_TITLE = 'New chat';
  const RENDER_INTERVAL_MS = 40; // streamed text is re-rendered at most this often

  const $ = (id) => document.getElementById(id);
  const ui = {
    app: $('app'),
    sidebar: $('sidebar'),
    scrim: $('scrim'),
    menu: $('menu-toggle'),
    newChat: $('new-chat'),
    list: $('conversation-list'),
    system: $('system-prompt'),
    temperature: $('temperature'),
    topP: $('top-p'),
    maxTokens: $('max-tokens'),
    seed: $('seed'),
    model: $('model-select'),
    license: $('license'),
    exportButton: $('export'),
    error: $('error'),
    errorText: $('error-text'),
    errorRetry: $('error-retry'),
    errorDismiss: $('error-dismiss'),
    keyForm: $('api-key-form'),
    keyInput: $('api-key-input'),
    messages: $('messages'),
    thread: $('thread'),
    composer: $('composer'),
    input: $('message-input'),
    send: $('send'),
    stop: $('stop'),
  };

  // ---------------------------------------------------------------------------------------------
  // Small DOM helpers. Text only ever enters the page through textContent or text nodes.

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, className, onClick, attrs = {}) {
    const b = el('button', className, label);
    b.type = 'button';
    for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
    b.addEventListener('click', onClick);
    return b;
  }

  // ---------------------------------------------------------------------------------------------
  // Storage.

  function readJSON(key, fallback) {
    try {
      const text = localStorage.getItem(key);
      return text === null ? fallback : JSON.parse(text);
    } catch {
      return fallback;
    }
  }

  function writeJSON(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
      return true;
    } catch (e) {
      showError(`Could not save to this browser's storage (${e.name}): delete some conversations.`);
      return false;
    }
  }

  function readString(key) {
    try {
      return localStorage.getItem(key) || '';
    } catch {
      return '';
    }
  }

  function loadSettings() {
    const stored = readJSON(KEY_SETTINGS, {});
    const s = { ...DEFAULT_SETTINGS };
    if (stored && typeof stored === 'object') {
      for (const k of Object.keys(DEFAULT_SETTINGS)) {
        if (typeof stored[k] === 'string') s[k] = stored[k];
        else if (typeof stored[k] === 'number' && Number.isFinite(stored[k])) s[k] = String(stored[k]);
      }
    }
    return s;
  }

  // Stored conversations are checked field by field: a hand-edited or older entry must not break
  // the page, and whatever it holds is only ever shown as text.
  function cleanMessage(m) {
    if (!m || typeof m !== 'object') return null;
    if (m.role !== 'user' && m.role !== 'assistant') return null;
    const out = { role: m.role, content: typeof m.content === 'string' ? m.content : '' };
    if (typeof m.model === 'string') out.model = m.model;
    if (typeof m.error === 'string') out.error = m.error;
    if (typeof m.finish === 'string') out.finish = m.finish;
    if (m.stopped === true) out.stopped = true;
    if (typeof m.streamed === 'number') out.streamed = m.streamed;
    if (m.stats && typeof m.stats === 'object') {
      const st = {};
      for (const k of ['completion_tokens', 'prompt_tokens', 'cached_tokens', 'tokens_per_second']) {
        if (typeof m.stats[k] === 'number' && Number.isFinite(m.stats[k])) st[k] = m.stats[k];
      }
      out.stats = st;
    }
    return out;
  }

  function loadConversations() {
    const stored = readJSON(KEY_CONVERSATIONS, []);
    if (!Array.isArray(stored)) return [];
    const out = [];
    const seen = new Set();
    for (const c of stored) {
      if (!c || typeof c !== 'object' || typeof c.id !== 'string' || !c.id || seen.has(c.id)) continue;
      seen.add(c.id);
      const messages = Array.isArray(c.messages) ? c.messages.map(cleanMessage).filter(Boolean) : [];
      const now = Date.now();
      out.push({
        id: c.id,
        title: typeof c.title === 'string' && c.title.trim() ? c.title : NEW_TITLE,
        titled: c.titled === true,
        created: Number.isFinite(c.created) ? c.created : now,
        updated: Number.isFinite(c.updated) ? c.updated : now,
        messages,
      });
    }
    return out;
  }

  function saveConversations() {
    writeJSON(KEY_CONVERSATIONS, state.conversations);
    try {
      localStorage.setItem(KEY_CURRENT, state.currentId);
    } catch {
      // reported by writeJSON already
    }
  }

  function saveSettings() {
    writeJSON(KEY_SETTINGS, state.settings);
  }

  function newId() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // ---------------------------------------------------------------------------------------------
  // State.

  const state = {
    settings: loadSettings(),
    conversations: loadConversations(),
    currentId: readString(KEY_CURRENT),
    apiKey: readString(KEY_API),
    models: [],
    gen: null, // the reply being generated: {conv, msg, controller}
    editing: null, // {convId, index} of the user message being edited
    renaming: null, // id of the conversation being renamed
    keyRetry: null, // what to run again once an API key has been entered
    licenseSeq: 0,
  };

  const views = new WeakMap(); // message object -> {article, body, stats}

  function current() {
    return state.conversations.find((c) => c.id === state.currentId) || null;
  }

  function createConversation() {
    const now = Date.now();
    const conv = { id: newId(), title: NEW_TITLE, titled: false, created: now, updated: now, messages: [] };
    state.conversations.push(conv);
    return conv;
  }

  function ensureCurrent() {
    if (!current()) {
      const latest = sortedConversations()[0];
      state.currentId = (latest || createConversation()).id;
    }
  }

  function sortedConversations() {
    return [...state.conversations].sort((a, b) => b.updated - a.updated);
  }

  function autoTitle(conv) {
    if (conv.titled) return;
    const first = conv.messages.find((m) => m.role === 'user' && m.content.trim());
    if (!first) return;
    const line = first.content.trim().split('\n')[0].replace(/\s+/g, ' ');
    conv.title = line.length > 48 ? `${line.slice(0, 47)}…` : line;
  }

  // ---------------------------------------------------------------------------------------------
  // Errors.

  class ApiError extends Error {
    constructor(status, message, type = '') {
      super(message);
      this.name = 'ApiError';
      this.status = status;
      this.type = type;
    }
  }

  function describe(e) {
    if (e instanceof ApiError) return e.status ? `${e.message} (HTTP ${e.status})` : e.message;
    return e && e.message ? e.message : String(e);
  }

  function showError(text, retry = null) {
    ui.errorText.textContent = text;
    ui.error.hidden = false;
    ui.errorRetry.hidden = !retry;
    ui.errorRetry.onclick = retry
      ? () => {
          clearError();
          retry();
        }
      : null;
  }

  function clearError() {
    ui.error.hidden = true;
    ui.errorText.textContent = '';
    ui.errorRetry.hidden = true;
    ui.errorRetry.onclick = null;
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP.

  function headers(json) {
    const h = {};
    if (json) h['Content-Type'] = 'application/json';
    if (state.apiKey) h.Authorization = `Bearer ${state.apiKey}`;
    return h;
  }

  async function errorFrom(res) {
    let message = '';
    let type = '';
    try {
      const text = await res.text();
      try {
        const body = JSON.parse(text);
        const e = body && body.error;
        if (typeof e === 'string') message = e;
        else if (e && typeof e.message === 'string') {
          message = e.message;
          type = typeof e.type === 'string' ? e.type : '';
        }
      } catch {
        message = text.trim().slice(0, 300);
      }
    } catch {
      // the body could not be read; the status says enough
    }
    return new ApiError(res.status, message || res.statusText || 'the request failed', type);
  }

  async function api(path, body, signal) {
    let res;
    try {
      res = await fetch(path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, `Cannot reach the server at ${location.origin}: is owl serve running?`);
    }
    if (!res.ok) throw await errorFrom(res);
    return res;
  }

  // Reads a text/event-stream body and calls onData with each event's parsed JSON data. Resolves
  // to true when the stream ended with `data: [DONE]`.
  async function readEvents(res, onData) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data = [];
    let done = false;
    const dispatch = () => {
      if (!data.length) return;
      const text = data.join('\n');
      data = [];
      if (text === '[DONE]') {
        done = true;
        return;
      }
      let value;
      try {
        value = JSON.parse(text);
      } catch {
        throw new ApiError(0, 'The server sent a malformed stream event.');
      }
      onData(value);
    };
    try {
      while (!done) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buffer += decoder.decode(value, { stream: true });
        let nl;
        while (!done && (nl = buffer.indexOf('\n')) >= 0) {
          let line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (line === '') dispatch();
          else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
          // comments (":") and other fields are ignored
        }
      }
      if (!done) dispatch();
    } finally {
      // Whatever stopped the loop (the end, [DONE], an error event), the connection is let go.
      reader.cancel().catch(() => {});
    }
    return done;
  }

  // ---------------------------------------------------------------------------------------------
  // API key.

  function askForKey(retry) {
    const refused = Boolean(state.apiKey);
    state.keyRetry = retry;
    ui.keyForm.hidden = false;
    if (refused) {
      showError('The server refused the API key: enter the right one.');
      ui.keyInput.value = '';
    }
    ui.keyInput.focus();
  }

  ui.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.keyInput.value.trim();
    if (!key) {
      showError('Enter the API key first.');
      ui.keyInput.focus();
      return;
    }
    state.apiKey = key;
    try {
      localStorage.setItem(KEY_API, key);
    } catch {
      // kept for this page only
    }
    ui.keyForm.hidden = true;
    ui.keyInput.value = '';
    clearError();
    const retry = state.keyRetry || loadModels;
    state.keyRetry = null;
    retry();
  });

  // ---------------------------------------------------------------------------------------------
  // Models and the license line.

  function setModelOptions(ids, placeholder) {
    ui.model.replaceChildren();
    if (!ids.length) {
      const o = el('option', '', placeholder);
      o.value = '';
      ui.model.append(o);
      ui.model.disabled = true;
      return;
    }
    for (const id of ids) {
      const o = el('option', '', id);
      o.value = id;
      ui.model.append(o);
    }
    ui.model.disabled = false;
  }

  let modelsFailed = false;

  async function loadModels() {
    setModelOptions([], 'Loading models…');
    ui.license.textContent = '';
    let ids;
    try {
      const res = await api('/v1/models');
      const body = await res.json();
      ids = Array.isArray(body && body.data)
        ? body.data.map((m) => m && m.id).filter((id) => typeof id === 'string' && id)
        : [];
    } catch (e) {
      state.models = [];
      setModelOptions([], 'No model');
      updateComposer();
      if (e instanceof ApiError && e.status === 401) {
        askForKey(loadModels);
        return;
      }
      modelsFailed = true;
      showError(`Could not list the models: ${describe(e)}`, loadModels);
      return;
    }
    state.models = ids;
    if (!ids.length) {
      setModelOptions([], 'No models');
      updateComposer();
      modelsFailed = true;
      showError('The server has no models: start owl serve with a GGUF file or with --models DIR.', loadModels);
      return;
    }
    if (modelsFailed) {
      modelsFailed = false;
      clearError();
    }
    setModelOptions(ids);
    const model = ids.includes(state.settings.model) ? state.settings.model : ids[0];
    ui.model.value = model; // only a choice made in the picker is remembered
    updateComposer();
    updateLicense();
    refreshEmptyState();
  }

  async function updateLicense() {
    const model = ui.model.value;
    const seq = ++state.licenseSeq;
    ui.license.textContent = model ? 'license: …' : '';
    ui.license.removeAttribute('title');
    if (!model) return;
    let text = '';
    try {
      const res = await api('/api/show', { model });
      const body = await res.json();
      const lic = body && body.license;
      if (typeof lic === 'string') text = lic.trim();
      else if (Array.isArray(lic)) text = lic.filter((x) => typeof x === 'string').join('\n').trim();
    } catch (e) {
      if (seq !== state.licenseSeq) return;
      if (e instanceof ApiError && e.status === 401) {
        askForKey(loadModels);
        return;
      }
      text = '';
    }
    if (seq !== state.licenseSeq) return;
    if (!text) {
      ui.license.textContent = 'license: unknown';
      return;
    }
    // A GGUF file may carry the whole license text: the line shows its first line.
    const first = text.split('\n')[0].trim();
    ui.license.textContent = `license: ${first.length > 60 ? `${first.slice(0, 59)}…` : first}`;
    ui.license.title = text.slice(0, 2000);
  }

  ui.model.addEventListener('change', () => {
    state.settings.model = ui.model.value;
    saveSettings();
    updateLicense();
    updateComposer();
    refreshEmptyState();
  });

  // The empty conversation's hint names the model picked.
  function refreshEmptyState() {
    const conv = current();
    if (!conv || !conv.messages.length) renderConversation();
  }

  // ---------------------------------------------------------------------------------------------
  // Settings.

  const settingInputs = [
    [ui.system, 'system'],
    [ui.temperature, 'temperature'],
    [ui.topP, 'top_p'],
    [ui.maxTokens, 'max_tokens'],
    [ui.seed, 'seed'],
  ];

  for (const [input, key] of settingInputs) {
    input.value = state.settings[key];
    input.addEventListener('input', () => {
      state.settings[key] = input.value;
      saveSettings();
    });
  }

  function numberSetting(key, integer) {
    const text = String(state.settings[key] || '').trim();
    if (!text) return undefined;
    const v = Number(text);
    if (!Number.isFinite(v)) return undefined;
    return integer ? Math.trunc(v) : v;
  }

  function samplingFields() {
    const out = {};
    const t = numberSetting('temperature', false);
    const p = numberSetting('top_p', false);
    const n = numberSetting('max_tokens', true);
    const s = numberSetting('seed', true);
    if (t !== undefined) out.temperature = t;
    if (p !== undefined) out.top_p = p;
    if (n !== undefined) out.max_tokens = n;
    if (s !== undefined) out.seed = s;
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Markdown: a small renderer for untrusted text. Blocks: paragraphs (a single newline is a line
  // break), fenced code, headings # to ###, bulleted and numbered lists (nested by indentation),
  // block quotes and rules. Inline: `code`, **bold**, *italic*, _italic_, links to http(s) URLs;
  // images are never loaded (their alt text is shown). Everything else, raw HTML included, is
  // text. No string is ever parsed as HTML.

  const MAX_DEPTH = 6;
  const FENCE_RE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/;
  const HEADING_RE = /^ {0,3}(#{1,3})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
  const RULE_RE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
  const LIST_RE = /^( *)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
  const QUOTE_RE = /^ {0,3}> ?(.*)$/;
  const BLANK_RE = /^\s*$/;

  function expandTabs(line) {
    return line.replace(/^\t+/, (tabs) => '    '.repeat(tabs.length));
  }

  function indentOf(line) {
    return line.length - line.trimStart().length;
  }

  function listItem(line) {
    const m = LIST_RE.exec(line);
    if (!m) return null;
    // "-", "*" or "1." alone on a line still starts an (empty) item; "**bold**" or "-x" do not.
    return { indent: m[1].length, marker: m[2], ordered: /^\d/.test(m[2]), text: m[3] || '', width: m[0].length - (m[3] || '').length };
  }

  function startsBlock(line) {
    return FENCE_RE.test(line) || HEADING_RE.test(line) || RULE_RE.test(line) || QUOTE_RE.test(line) || listItem(line) !== null;
  }

  function renderMarkdown(text, into) {
    const lines = String(text).replace(/\r\n?/g, '\n').split('\n').map(expandTabs);
    renderBlocks(lines, into, 0);
  }

  function renderBlocks(lines, into, depth) {
    let i = 0;
    let para = null;
    const flush = () => {
      if (para) {
        const p = el('p');
        renderInline(para.join('\n'), p, 0);
        into.append(p);
        para = null;
      }
    };
    while (i < lines.length) {
      const line = lines[i];
      let m;
      if (BLANK_RE.test(line)) {
        flush();
        i++;
        continue;
      }
      if (depth >= MAX_DEPTH) {
        (para ||= []).push(line.trim());
        i++;
        continue;
      }
      if ((m = FENCE_RE.exec(line))) {
        flush();
        const fence = m[1];
        const body = [];
        const indent = indentOf(line);
        i++;
        while (i < lines.length) {
          const t = lines[i].trim();
          if (t.length >= fence.length && t === fence[0].repeat(t.length) && indentOf(lines[i]) <= 3) break;
          body.push(indent ? lines[i].replace(new RegExp(`^ {0,${indent}}`), '') : lines[i]);
          i++;
        }
        i++; // the closing fence (a stream still generating may not have sent it yet)
        into.append(codeBlock(body.join('\n'), m[2]));
        continue;
      }
      if ((m = HEADING_RE.exec(line))) {
        flush();
        const h = el(`h${m[1].length + 2}`, `md-h${m[1].length}`);
        renderInline(m[2], h, 0);
        into.append(h);
        i++;
        continue;
      }
      if (RULE_RE.test(line)) {
        flush();
        into.append(el('hr'));
        i++;
        continue;
      }
      if (QUOTE_RE.test(line)) {
        flush();
        const inner = [];
        while (i < lines.length && (m = QUOTE_RE.exec(lines[i]))) {
          inner.push(m[1]);
          i++;
        }
        const q = el('blockquote');
        renderBlocks(inner, q, depth + 1);
        into.append(q);
        continue;
      }
      const item = listItem(line);
      if (item) {
        flush();
        i = renderMarkdownList(lines, i, item, into, depth);
        continue;
      }
      (para ||= []).push(line.trim());
      i++;
    }
    flush();
  }

  // Renders the list that starts at lines[start] (its first item FIRST); returns the index of the
  // first line after it.
  function renderMarkdownList(lines, start, first, into, depth) {
    const list = el(first.ordered ? 'ol' : 'ul');
    if (first.ordered) {
      const n = parseInt(first.marker, 10);
      if (n !== 1) list.start = n;
    }
    let i = start;
    let item = first;
    while (item) {
      const body = [item.text];
      const contentIndent = item.width;
      i++;
      for (;;) {
        if (i >= lines.length) break;
        const line = lines[i];
        if (BLANK_RE.test(line)) {
          // A blank line continues the item when indented text follows it.
          let j = i + 1;
          while (j < lines.length && BLANK_RE.test(lines[j])) j++;
          if (j < lines.length && indentOf(lines[j]) > item.indent && indentOf(lines[j]) >= 2) {
            body.push('');
            i++;
            continue;
          }
          break;
        }
        const ind = indentOf(line);
        if (ind >= Math.max(2, item.indent + 2)) {
          body.push(line.slice(Math.min(ind, contentIndent)));
          i++;
          continue;
        }
        if (startsBlock(line)) break;
        // A lazy continuation line of the item's paragraph.
        if (!BLANK_RE.test(body[body.length - 1])) {
          body.push(line.trim());
          i++;
          continue;
        }
        break;
      }
      const li = el('li');
      renderBlocks(body, li, depth + 1);
      // A tight item (one paragraph) holds its text directly.
      if (li.childNodes.length === 1 && li.firstChild.nodeName === 'P') li.replaceChildren(...li.firstChild.childNodes);
      list.append(li);
      // The next item of this list: same kind, possibly after blank lines.
      let j = i;
      while (j < lines.length && BLANK_RE.test(lines[j])) j++;
      const next = j < lines.length ? listItem(lines[j]) : null;
      if (next && next.ordered === first.ordered && next.indent <= first.indent + 1) {
        i = j;
        item = next;
      } else {
        item = null;
      }
    }
    into.append(list);
    return i;
  }

  function codeBlock(code, lang) {
    const wrap = el('div', 'md-code');
    const bar = el('div', 'md-code-bar');
    bar.append(el('span', 'md-code-lang', lang || 'code'));
    const copy = button('Copy', 'btn btn-small btn-quiet md-copy', () => {
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(code).then(
        () => {
          copy.textContent = 'Copied';
          setTimeout(() => {
            copy.textContent = 'Copy';
          }, 1500);
        },
        () => {},
      );
    });
    copy.setAttribute('aria-label', 'Copy the code');
    bar.append(copy);
    const pre = el('pre');
    pre.append(el('code', '', code));
    pre.tabIndex = 0; // a wide block scrolls sideways by keyboard too
    wrap.append(bar, pre);
    return wrap;
  }

  const IMAGE_RE = /!\[([^\]\n]*)\]\(\s*([^\s()]*)(?:\s+"[^"\n]*")?\s*\)/y;
  const LINK_RE = /\[((?:[^\[\]\n]|\[[^\[\]\n]*\])+)\]\(\s*([^\s()]+)(?:\s+"[^"\n]*")?\s*\)/y;
  const ESCAPABLE_RE = /[!-\/:-@\[-`{-~]/;
  const WORD_RE = /[\p{L}\p{N}]/u;
  const SPACE_RE = /\s/;
  const EMPHASIS_SEARCH = 4000; // how far a closing * or _ is looked for

  function safeUrl(raw) {
    if (!/^https?:\/\//i.test(raw)) return null;
    try {
      const u = new URL(raw);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch {
      return null;
    }
  }

  function runLength(text, i, ch) {
    let n = 0;
    while (text[i + n] === ch) n++;
    return n;
  }

  // The index of the delimiter closing an emphasis of N characters CH opened before FROM, or -1.
  // A closer follows a non-space; an underscore closer is not followed by a letter or digit; a
  // single-character closer is a run of exactly one.
  function findCloser(text, from, ch, n) {
    const end = Math.min(text.length, from + EMPHASIS_SEARCH);
    let j = from;
    while (j < end) {
      if (text[j] === '`') {
        // skip a code span: its content is not Markdown
        const r = runLength(text, j, '`');
        const close = text.indexOf('`'.repeat(r), j + r);
        j = close < 0 ? j + r : close + r;
        continue;
      }
      if (text[j] !== ch) {
        j++;
        continue;
      }
      const r = runLength(text, j, ch);
      const before = text[j - 1];
      const after = text[j + r] || '';
      const fits = n === 1 ? r === 1 : r >= n;
      if (fits && !SPACE_RE.test(before) && !(ch === '_' && WORD_RE.test(after))) return j;
      j += r;
    }
    return -1;
  }

  function renderInline(text, into, depth) {
    let buf = '';
    const flush = () => {
      if (buf) {
        into.append(document.createTextNode(buf));
        buf = '';
      }
    };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\' && i + 1 < text.length && ESCAPABLE_RE.test(text[i + 1])) {
        buf += text[i + 1];
        i += 2;
        continue;
      }
      if (c === '\n') {
        flush();
        into.append(el('br'));
        i++;
        continue;
      }
      if (c === '`') {
        const r = runLength(text, i, '`');
        const close = text.indexOf('`'.repeat(r), i + r);
        if (close > i && runLength(text, close, '`') === r) {
          flush();
          let code = text.slice(i + r, close).replace(/\n/g, ' ');
          if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ') && code.trim()) code = code.slice(1, -1);
          into.append(el('code', 'md-inline-code', code));
          i = close + r;
          continue;
        }
        buf += '`'.repeat(r);
        i += r;
        continue;
      }
      if (c === '!' && text[i + 1] === '[') {
        IMAGE_RE.lastIndex = i;
        const m = IMAGE_RE.exec(text);
        if (m) {
          flush();
          // Images are not loaded: a remote image would tell a third party the page was read.
          const alt = el('span', 'md-image', m[1] || 'image');
          alt.title = 'image not loaded';
          into.append(alt);
          i += m[0].length;
          continue;
        }
      }
      if (c === '[' && depth < MAX_DEPTH) {
        LINK_RE.lastIndex = i;
        const m = LINK_RE.exec(text);
        const href = m ? safeUrl(m[2]) : null;
        if (m && href && !into.closest?.('a')) {
          flush();
          const a = el('a');
          a.href = href;
          a.rel = 'noopener noreferrer';
          a.target = '_blank';
          renderInline(m[1], a, depth + 1);
          into.append(a);
          i += m[0].length;
          continue;
        }
      }
      if ((c === '*' || c === '_') && depth < MAX_DEPTH) {
        const r = runLength(text, i, c);
        const next = text[i + r] || '';
        const prev = text[i - 1] || '';
        const canOpen = next && !SPACE_RE.test(next) && !(c === '_' && WORD_RE.test(prev));
        if (canOpen) {
          // "***x***" is bold italic; longer runs stay text.
          const sizes = r === 3 ? [3, 2] : r === 2 ? [2] : r === 1 ? [1] : [];
          let rendered = false;
          for (const n of sizes) {
            const close = findCloser(text, i + n + 1, c, n);
            if (close < 0) continue;
            flush();
            const inner = text.slice(i + n, close);
            let node;
            if (n === 3) {
              node = el('strong');
              const em = el('em');
              renderInline(inner, em, depth + 1);
              node.append(em);
            } else {
              node = el(n === 2 ? 'strong' : 'em');
              renderInline(inner, node, depth + 1);
            }
            into.append(node);
            i = close + n;
            rendered = true;
            break;
          }
          if (rendered) continue;
        }
        buf += c.repeat(r);
        i += r;
        continue;
      }
      buf += c;
      i++;
    }
    flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Rendering the conversation.

  function isNearBottom() {
    const m = ui.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 48;
  }

  function scrollToBottom() {
    ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function formatStats(msg) {
    const parts = [];
    const st = msg.stats;
    if (st && typeof st.completion_tokens === 'number') {
      parts.push(`${st.completion_tokens} token${st.completion_tokens === 1 ? '' : 's'}`);
      if (typeof st.tokens_per_second === 'number') parts.push(`${st.tokens_per_second.toFixed(1)} tokens/s`);
      if (typeof st.prompt_tokens === 'number') {
        const cached = typeof st.cached_tokens === 'number' ? st.cached_tokens : 0;
        parts.push(`prompt ${st.prompt_tokens} tokens (${cached} cached)`);
      }
      if (msg.finish === 'length') parts.push('cut at max tokens');
    } else if (msg.stopped) {
      parts.push(`stopped after ${msg.streamed || 0} streamed piece${msg.streamed === 1 ? '' : 's'}`);
    }
    return parts.join(' · ');
  }

  function fillStats(view, msg) {
    const text = formatStats(msg);
    view.stats.hidden = !text;
    view.stats.textContent = text;
    const st = msg.stats || {};
    for (const [attr, key] of [
      ['data-completion-tokens', 'completion_tokens'],
      ['data-prompt-tokens', 'prompt_tokens'],
      ['data-cached-tokens', 'cached_tokens'],
      ['data-tokens-per-second', 'tokens_per_second'],
    ]) {
      if (typeof st[key] === 'number') view.stats.setAttribute(attr, String(st[key]));
      else view.stats.removeAttribute(attr);
    }
    if (msg.stopped) view.stats.setAttribute('data-stopped', 'true');
    else view.stats.removeAttribute('data-stopped');
  }

  function fillBody(view, msg) {
    const streaming = state.gen && state.gen.msg === msg;
    view.body.replaceChildren();
    if (msg.role === 'assistant') {
      renderMarkdown(msg.content, view.body);
      if (!msg.content && streaming) view.body.append(el('span', 'typing', 'generating'));
      if (!msg.content && msg.stopped) view.body.append(el('p', 'muted', 'Stopped before any text.'));
      if (msg.error) view.body.append(el('p', 'msg-error', msg.error));
    } else {
      view.body.textContent = msg.content;
    }
    view.article.classList.toggle('streaming', Boolean(streaming));
  }

  function messageView(conv, msg, index) {
    const article = el('article', `msg msg-${msg.role}`);
    article.dataset.testid = 'message';
    article.dataset.role = msg.role;
    if (msg.model) article.dataset.model = msg.model;
    const head = el('div', 'msg-head');
    // A user's message is a bubble on the right: its "You" is for screen readers only.
    head.append(el('span', msg.role === 'user' ? 'msg-who sr-only' : 'msg-who', msg.role === 'user' ? 'You' : msg.model || 'assistant'));
    const actions = el('div', 'msg-actions');
    head.append(actions);
    const busy = Boolean(state.gen);
    const last = index === conv.messages.length - 1;

    if (msg.role === 'user' && state.editing && state.editing.convId === conv.id && state.editing.index === index) {
      article.classList.add('editing');
      article.append(head, editor(conv, msg, index));
      return article;
    }

    const body = el('div', msg.role === 'assistant' ? 'msg-body md' : 'msg-body msg-text');
    body.dataset.testid = 'message-content';
    const stats = el('div', 'msg-stats');
    stats.dataset.testid = 'reply-stats';
    const view = { article, body, stats };
    views.set(msg, view);

    if (msg.role === 'user') {
      const edit = button('Edit', 'btn btn-small btn-quiet', () => startEdit(conv, index), { 'data-testid': 'message-edit' });
      edit.setAttribute('aria-label', 'Edit this message and send it again');
      edit.disabled = busy;
      actions.append(edit);
    } else {
      const copy = button('Copy', 'btn btn-small btn-quiet', () => {
        if (navigator.clipboard) navigator.clipboard.writeText(msg.content).catch(() => {});
      });
      copy.setAttribute('aria-label', 'Copy this reply');
      actions.append(copy);
      if (last) {
        const regen = button('Regenerate', 'btn btn-small btn-quiet', () => regenerate(conv), { 'data-testid': 'regenerate' });
        regen.setAttribute('aria-label', 'Generate this reply again');
        regen.disabled = busy;
        actions.append(regen);
      }
    }
    if (msg.role === 'user') {
      const row = el('div', 'msg-row');
      row.append(body, head);
      article.append(row);
    } else {
      article.append(head, body, stats);
    }
    fillBody(view, msg);
    if (msg.role === 'assistant') fillStats(view, msg);
    return article;
  }

  function editor(conv, msg, index) {
    const wrap = el('div', 'msg-editor');
    const id = `edit-${conv.id}-${index}`;
    const label = el('label', 'sr-only', 'Edit the message');
    label.htmlFor = id;
    const area = el('textarea', 'edit-input');
    area.id = id;
    area.dataset.testid = 'message-edit-input';
    area.value = msg.content;
    area.rows = Math.min(10, Math.max(2, msg.content.split('\n').length));
    const save = button('Save and send', 'btn btn-primary btn-small', () => commitEdit(conv, index, area.value), {
      'data-testid': 'message-edit-save',
    });
    const cancel = button('Cancel', 'btn btn-small', () => cancelEdit(), { 'data-testid': 'message-edit-cancel' });
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        commitEdit(conv, index, area.value);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        cancelEdit();
      }
    });
    const row = el('div', 'msg-editor-actions');
    row.append(cancel, save);
    wrap.append(label, area, row);
    return wrap;
  }

  function emptyState() {
    const box = el('div', 'empty');
    box.append(el('p', 'empty-title', 'Start a conversation'));
    const model = ui.model.value;
    box.append(
      el(
        'p',
        'empty-text',
        model
          ? `Messages go to ${model}, running locally in owl serve. Replies stream in as they are generated.`
          : 'Pick a model above, then type a message below.',
      ),
    );
    return box;
  }

  function renderConversation() {
    const conv = current();
    ui.thread.replaceChildren();
    if (!conv || !conv.messages.length) {
      ui.thread.append(emptyState());
    } else {
      conv.messages.forEach((m, i) => ui.thread.append(messageView(conv, m, i)));
    }
    ui.exportButton.disabled = !conv || !conv.messages.length;
    scrollToBottom();
  }

  function renderList() {
    ui.list.replaceChildren();
    for (const conv of sortedConversations()) {
      const li = el('li', 'conversation');
      li.dataset.testid = 'conversation';
      li.dataset.id = conv.id;
      const active = conv.id === state.currentId;
      li.classList.toggle('active', active);
      if (state.renaming === conv.id) {
        li.append(renameField(conv));
      } else {
        const open = button(conv.title, 'conversation-open', () => selectConversation(conv.id), {
          'data-testid': 'conversation-open',
        });
        if (active) open.setAttribute('aria-current', 'true');
        const rename = button('✎', 'btn-icon', () => startRename(conv.id), {
          'data-testid': 'conversation-rename',
          'aria-label': `Rename “${conv.title}”`,
          title: 'Rename',
        });
        const del = button('✕', 'btn-icon', () => deleteConversation(conv.id), {
          'data-testid': 'conversation-delete',
          'aria-label': `Delete “${conv.title}”`,
          title: 'Delete',
        });
        li.append(open, rename, del);
      }
      ui.list.append(li);
    }
  }

  function renameField(conv) {
    const input = el('input', 'rename-input');
    input.type = 'text';
    input.value = conv.title;
    input.dataset.testid = 'conversation-rename-input';
    input.setAttribute('aria-label', 'Conversation name');
    let finished = false;
    const finish = (commit) => {
      if (finished) return;
      finished = true;
      const title = input.value.trim();
      if (commit && title) {
        conv.title = title;
        conv.titled = true;
        saveConversations();
      }
      state.renaming = null;
      renderList();
      const row = ui.list.querySelector(`[data-id="${CSS.escape(conv.id)}"] [data-testid="conversation-rename"]`);
      if (row) row.focus();
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        finish(true);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
    return input;
  }

  function render() {
    renderList();
    renderConversation();
    const conv = current();
    document.title = conv && conv.messages.length ? `${conv.title} · owl chat` : 'owl chat';
  }

  // ---------------------------------------------------------------------------------------------
  // Conversation actions.

  function selectConversation(id) {
    state.currentId = id;
    state.editing = null;
    saveConversations();
    render();
    closeDrawer();
    ui.input.focus();
  }

  function newConversation() {
    const empty = state.conversations.find((c) => !c.messages.length);
    const conv = empty || createConversation();
    conv.updated = Date.now();
    selectConversation(conv.id);
  }

  function startRename(id) {
    state.renaming = id;
    renderList();
    const input = ui.list.querySelector('[data-testid="conversation-rename-input"]');
    if (input) {
      input.focus();
      input.select();
    }
  }

  function deleteConversation(id) {
    if (state.gen && state.gen.conv.id === id) state.gen.controller.abort();
    state.conversations = state.conversations.filter((c) => c.id !== id);
    if (state.editing && state.editing.convId === id) state.editing = null;
    if (state.currentId === id) {
      state.currentId = '';
      ensureCurrent();
    }
    saveConversations();
    render();
    ui.newChat.focus();
  }

  function startEdit(conv, index) {
    if (state.gen) return;
    state.editing = { convId: conv.id, index };
    renderConversation();
    const area = ui.thread.querySelector('[data-testid="message-edit-input"]');
    if (area) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
      area.scrollIntoView({ block: 'nearest' });
    }
  }

  function cancelEdit() {
    state.editing = null;
    renderConversation();
  }

  function commitEdit(conv, index, text) {
    if (state.gen || !text.trim()) return;
    state.editing = null;
    conv.messages = conv.messages.slice(0, index);
    conv.messages.push({ role: 'user', content: text });
    autoTitle(conv);
    generate(conv);
  }

  function regenerate(conv) {
    if (state.gen) return;
    const last = conv.messages[conv.messages.length - 1];
    if (last && last.role === 'assistant') conv.messages.pop();
    generate(conv);
  }

  function sendMessage() {
    if (state.gen) return;
    const text = ui.input.value;
    if (!text.trim()) return;
    if (!ui.model.value) {
      showError('There is no model to send to: check that owl serve lists one.');
      return;
    }
    ensureCurrent();
    const conv = current();
    conv.messages.push({ role: 'user', content: text });
    autoTitle(conv);
    ui.input.value = '';
    generate(conv);
  }

  function exportConversation() {
    const conv = current();
    if (!conv) return;
    const data = {
      format: 'owl-chat',
      version: 1,
      title: conv.title,
      created: new Date(conv.created).toISOString(),
      exported: new Date().toISOString(),
      system: state.settings.system,
      messages: conv.messages.map((m) => {
        const out = { role: m.role, content: m.content };
        if (m.model) out.model = m.model;
        if (m.stats) out.stats = m.stats;
        if (m.stopped) out.stopped = true;
        if (m.error) out.error = m.error;
        return out;
      }),
    };
    const blob = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const a = el('a');
    const slug = conv.title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'chat';
    a.href = url;
    a.download = `owl-${slug}.json`;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  // ---------------------------------------------------------------------------------------------
  // Generation.

  function updateComposer() {
    const busy = Boolean(state.gen);
    const hadFocus = document.activeElement;
    ui.send.hidden = busy;
    ui.stop.hidden = !busy;
    ui.send.disabled = !ui.model.value;
    if (busy && hadFocus === ui.send) ui.stop.focus();
    if (!busy && hadFocus === ui.stop) ui.input.focus();
    // Screen readers announce the reply once it is complete, not every streamed piece.
    ui.thread.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  let renderTimer = 0;
  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(() => {
      renderTimer = 0;
      renderStreaming();
    }, RENDER_INTERVAL_MS);
  }

  function renderStreaming() {
    const gen = state.gen;
    if (!gen || gen.conv.id !== state.currentId) return;
    const view = views.get(gen.msg);
    if (!view || !view.article.isConnected) return;
    const stick = isNearBottom();
    fillBody(view, gen.msg);
    fillStats(view, gen.msg);
    if (stick) scrollToBottom();
  }

  function statsFrom(usage, timings) {
    const st = {};
    if (usage && typeof usage === 'object') {
      if (Number.isFinite(usage.completion_tokens)) st.completion_tokens = usage.completion_tokens;
      if (Number.isFinite(usage.prompt_tokens)) st.prompt_tokens = usage.prompt_tokens;
      const details = usage.prompt_tokens_details;
      if (details && Number.isFinite(details.cached_tokens)) st.cached_tokens = details.cached_tokens;
    }
    if (timings && Number.isFinite(timings.predicted_n) && Number.isFinite(timings.predicted_ms) && timings.predicted_ms > 0) {
      st.tokens_per_second = (timings.predicted_n / timings.predicted_ms) * 1000;
    }
    return st;
  }

  async function generate(conv) {
    const model = ui.model.value;
    if (!model) {
      showError('There is no model to send to: check that owl serve lists one.');
      render();
      return;
    }
    const messages = [];
    if (state.settings.system.trim()) messages.push({ role: 'system', content: state.settings.system });
    for (const m of conv.messages) if (m.content) messages.push({ role: m.role, content: m.content });

    const msg = { role: 'assistant', content: '', model, streamed: 0 };
    conv.messages.push(msg);
    conv.updated = Date.now();
    const controller = new AbortController();
    state.gen = { conv, msg, controller };
    if (state.currentId !== conv.id) state.currentId = conv.id;
    saveConversations();
    clearErrorIfTransient();
    render();
    updateComposer();

    const body = { model, messages, stream: true, stream_options: { include_usage: true }, ...samplingFields() };
    let retryWithKey = false;
    try {
      const res = await api('/v1/chat/completions', body, controller.signal);
      const finished = await readEvents(res, (data) => {
        if (data && data.error) {
          const e = data.error;
          throw new ApiError(0, `The server stopped the reply: ${typeof e === 'string' ? e : e.message || 'unknown error'}`);
        }
        // The reply is labelled with the model the server says answered.
        if (typeof data.model === 'string' && data.model && data.model !== msg.model) msg.model = data.model;
        const choice = Array.isArray(data.choices) ? data.choices[0] : null;
        if (choice) {
          const piece = choice.delta && choice.delta.content;
          if (typeof piece === 'string' && piece) {
            msg.content += piece;
            msg.streamed++;
            scheduleRender();
          }
          if (typeof choice.finish_reason === 'string') msg.finish = choice.finish_reason;
        }
        if (data.usage) msg.stats = statsFrom(data.usage, data.timings);
      });
      if (!finished && !msg.stats) throw new ApiError(0, 'The connection closed before the reply was complete.');
    } catch (e) {
      if (e && e.name === 'AbortError') {
        msg.stopped = true;
      } else if (e instanceof ApiError && e.status === 401 && !msg.content) {
        retryWithKey = true;
      } else {
        msg.error = describe(e);
        showError(msg.error);
      }
    } finally {
      if (renderTimer) {
        clearTimeout(renderTimer);
        renderTimer = 0;
      }
      state.gen = null;
      if (retryWithKey) conv.messages = conv.messages.filter((m) => m !== msg);
      conv.updated = Date.now();
      if (state.conversations.includes(conv)) saveConversations();
      render();
      updateComposer();
    }
    if (retryWithKey) askForKey(() => generate(conv));
  }

  // Errors from a previous send are cleared by the next one; a failure to list models stays.
  function clearErrorIfTransient() {
    if (!modelsFailed && ui.keyForm.hidden) clearError();
  }

  function stopGeneration() {
    if (state.gen) state.gen.controller.abort();
  }

  // ---------------------------------------------------------------------------------------------
  // The drawer (phone width) and keyboard.

  const narrow = window.matchMedia('(max-width: 760px)');

  function openDrawer() {
    ui.app.classList.add('drawer-open');
    ui.menu.setAttribute('aria-expanded', 'true');
    ui.scrim.hidden = false;
    ui.newChat.focus();
  }

  function closeDrawer() {
    if (!ui.app.classList.contains('drawer-open')) return false;
    ui.app.classList.remove('drawer-open');
    ui.menu.setAttribute('aria-expanded', 'false');
    ui.scrim.hidden = true;
    return true;
  }

  ui.menu.addEventListener('click', () => {
    if (ui.app.classList.contains('drawer-open')) closeDrawer();
    else openDrawer();
  });
  ui.scrim.addEventListener('click', closeDrawer);
  const WIDE_PLACEHOLDER = ui.input.placeholder;
  function fitPlaceholder() {
    ui.input.placeholder = narrow.matches ? 'Send a message' : WIDE_PLACEHOLDER;
  }
  fitPlaceholder();
  narrow.addEventListener('change', () => {
    if (!narrow.matches) closeDrawer();
    fitPlaceholder();
  });

  ui.composer.addEventListener('submit', (e) => {
    e.preventDefault();
    sendMessage();
  });
  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  ui.stop.addEventListener('click', stopGeneration);
  ui.newChat.addEventListener('click', newConversation);
  ui.exportButton.addEventListener('click', exportConversation);
  ui.errorDismiss.addEventListener('click', clearError);

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    if (state.gen) {
      e.preventDefault();
      stopGeneration();
      return;
    }
    if (closeDrawer()) {
      e.preventDefault();
      ui.menu.focus();
    }
  });

  // A reload or a closed tab keeps what has been generated so far.
  window.addEventListener('pagehide', () => {
    if (state.gen) {
      state.gen.msg.stopped = true;
      saveConversations();
    }
  });

  // Another tab of the same page changed the conversations.
  window.addEventListener('storage', (e) => {
    if (e.key !== KEY_CONVERSATIONS || state.gen || state.editing || state.renaming) return;
    state.conversations = loadConversations();
    ensureCurrent();
    render();
  });

  // ---------------------------------------------------------------------------------------------
  // Start.

  ensureCurrent();
  render();
  updateComposer();
  loadModels();
})();
