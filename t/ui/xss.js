// xss.js -- headless Chromium for t/xss.t: logs in and opens every page of
// PAGES (JSON list of paths) twice, once as the server sends it and once
// with the CSP bypassed (so escaping alone must hold).  Records every
// script execution through a hook (window.__xss, exposed by the browser
// side, so the page's CSP cannot block it), every CSP violation, and a
// DOM scan for things that would run on a click or hover: on* attributes,
// javascript:/data: URLs in href/src/action/formaction/xlink:href, and
// script/iframe/object/embed/base/meta-refresh elements inside the page's
// content areas.  Control checks prove the hook and the listener fire.
//
//   BASE=... LOGIN=... PASSWORD=... PAGES='["/t/1", ...]' node xss.js
//
// Prints one JSON object: {browser, controls, runs: [...], found: [...]}.
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE');
const PAGES = JSON.parse(env('PAGES'));

async function newContext(browser, bypassCSP, runs) {
  const context = await browser.newContext({ bypassCSP, locale: 'de-DE' });
  let where = 'none';
  await context.exposeFunction('__xss', (id) => {
    runs.push({ id: String(id), page: where, bypassCSP });
  });
  await context.addInitScript(ui.recordCsp);
  await context.addInitScript(() => {
    // a dialog is what a real payload would open
    window.alert = window.confirm = window.prompt = (x) => window.__xss(`alert:${x}`);
  });
  const page = await context.newPage();
  page.on('dialog', (d) => { runs.push({ id: `dialog:${d.message()}`, page: where, bypassCSP }); d.dismiss(); });
  return { context, page, at: (p) => { where = p; } };
}

// What would run on a click, hover or focus, and foreign active elements.
function domScan() {
  // the application's own forms (t/README.md), not injected ones
  const APP_FORMS = ['rename', 'ticket-update', 'profile', 'password', 'goto', 'logout', 'login'];
  const bad = [];
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc', 'background', 'poster'];
  for (const el of document.querySelectorAll('*')) {
    for (const a of Array.from(el.attributes)) {
      const n = a.name.toLowerCase();
      const v = a.value.replace(/[\u0000-\u0020\u007f]/g, '').toLowerCase();
      if (n.startsWith('on')) bad.push(`${el.tagName} ${n}=${a.value.slice(0, 60)}`);
      // the page's own <link rel=icon href="data:,"> (no favicon request)
      if (el.tagName === 'LINK' && n === 'href' && a.value === 'data:,' && /icon/.test(el.rel)) continue;
      if (urlAttrs.includes(n) && /^(javascript|vbscript|data):/.test(v)
          && !(el.tagName === 'IMG' && /^data:image\/(png|gif|jpeg|webp);/.test(v))) {
        bad.push(`${el.tagName} ${n}=${a.value.slice(0, 60)}`);
      }
      if (n === 'style' && /expression\(|javascript:|url\(/.test(v)) bad.push(`${el.tagName} style=${a.value.slice(0, 60)}`);
    }
    const t = el.tagName.toLowerCase();
    // where outside text is shown (t/README.md hooks): an active element
    // there was injected
    const inContent = el.closest('article .body, article .body-html, article .from, article .to, '
      + 'article .files, #history, table#tickets td, h1, #user, .flash, #notice');
    if (inContent && ['script', 'iframe', 'object', 'embed', 'base', 'meta', 'link', 'style', 'form', 'svg', 'math', 'template', 'noscript'].includes(t)
        && !(t === 'form' && APP_FORMS.includes(el.id))) {
      bad.push(`element <${t}> in page content`);
    }
  }
  // the page's own scripts: only same-origin files
  for (const s of document.querySelectorAll('script')) {
    if (!s.src || !s.src.startsWith(location.origin + '/')) bad.push(`script ${s.src || '(inline)'} ${s.textContent.slice(0, 60)}`);
  }
  return bad;
}

ui.run(async (browser, out) => {
  const runs = [];
  const found = [];
  Object.assign(out, { controls: {}, runs, found, pages: 0 });
  // control 1: the hook fires for a script that does run (no CSP here)
  {
    const c = await newContext(browser, false, runs);
    c.at('control');
    await c.page.setContent('<img src="x" onerror="__xss(\'control-onerror\')"><script>__xss("control-script")</script>');
    await c.page.waitForTimeout(300);
    out.controls.hook = runs.filter((r) => r.page === 'control').map((r) => r.id).sort();
    await c.context.close();
  }
  for (const bypassCSP of [false, true]) {
    const c = await newContext(browser, bypassCSP, runs);
    await ui.login(c.page);
    // control 2: an inline script put into an app page is refused by
    // the CSP and the listener sees it (not with the CSP bypassed: then
    // it runs and the hook sees it)
    c.at(`control-inline-${bypassCSP}`);
    await c.page.goto(`${BASE}/`);
    const v = await c.page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = '__xss("control-inline")';
      document.body.appendChild(s);
      return new Promise((res) => setTimeout(() => res(window.__tkCsp.slice()), 200));
    });
    await c.page.waitForTimeout(200);
    out.controls[bypassCSP ? 'inlineBypassed' : 'inlineCsp'] = {
      csp: v.length,
      ran: runs.filter((r) => r.page === `control-inline-${bypassCSP}`).length,
    };
    const scan = await c.page.evaluate(domScan);
    out.controls.overviewScanClean = out.controls.overviewScanClean ?? scan.length === 0;

    for (const p of PAGES) {
      c.at(p);
      const res = await c.page.goto(`${BASE}${p}`, { waitUntil: 'load' });
      out.pages++;
      if (!res || res.status() !== 200) {
        found.push({ page: p, bypassCSP, what: `HTTP ${res ? res.status() : 'none'}` });
        continue;
      }
      // give handlers (onerror of broken images, autofocus, animations)
      // time to fire
      await c.page.waitForTimeout(60);
      await c.page.mouse.move(200, 200);
      await c.page.mouse.move(400, 300);
      const csp = await c.page.evaluate(() => window.__tkCsp.slice());
      const bad = await c.page.evaluate(domScan);
      for (const x of csp) found.push({ page: p, bypassCSP, what: `CSP violation: ${x}` });
      for (const x of bad) found.push({ page: p, bypassCSP, what: `DOM: ${x}` });
    }
    // late handlers
    await c.page.waitForTimeout(300);
    await c.context.close();
  }
});
