// i18n.js -- for t/ui_i18n.t: every view at 390 px, once per language.
// Signs in as the user of each language, opens each page on a 390x844
// phone, and reports per page: <html lang>, the widths (no horizontal
// scrolling), the elements sticking out on the right, and which texts of
// the other language (SAMPLES) appear in what a reader sees.  German
// pages are saved as OUT/NAME-de-mobile.png for the user guide.
//
//   BASE=... USERS='[{"login":..,"password":..,"lang":"de"},..]'
//   PAGES='[{"name":"overview","path":"/"},..]'
//   SAMPLES='{"de":[English-only texts],"en":[German-only texts]}'
//   OUT=dir node i18n.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE');
const USERS = JSON.parse(env('USERS'));
const PAGES = JSON.parse(env('PAGES'));
const SAMPLES = JSON.parse(env('SAMPLES'));

// What a reader sees of the page, the widths, what sticks out.
async function look(page, samples) {
  return page.evaluate((samples) => {
    const de = document.documentElement;
    const seen = [document.body ? document.body.innerText : ''];
    for (const e of document.querySelectorAll('[aria-label],[placeholder],[title],input[type=submit]')) {
      for (const a of ['aria-label', 'placeholder', 'title', 'value']) {
        if (e.hasAttribute(a) && (a !== 'value' || e.type === 'submit')) seen.push(e.getAttribute(a));
      }
    }
    for (const o of document.querySelectorAll('option')) seen.push(o.textContent);
    const text = seen.join(' ').replace(/\s+/g, ' ');
    // an element is out when its right edge passes the screen and no
    // scrolling box of its own holds it
    const out = [];
    const inScroller = (e) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (/(auto|scroll|hidden)/.test(s.overflowX)) return true;
      }
      return false;
    };
    for (const e of document.querySelectorAll('body *')) {
      const r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > de.clientWidth + 1 && !inScroller(e)) {
        out.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''} right=${Math.round(r.right)}`);
      }
    }
    return {
      lang: de.getAttribute('lang'),
      page: document.body ? document.body.getAttribute('data-page') : null,
      scrollWidth: de.scrollWidth,
      clientWidth: de.clientWidth,
      out: out.slice(0, 10),
      leftovers: samples.filter((s) => text.includes(s)),
    };
  }, samples);
}

// the phone of lib.js's viewports, in the user's language
const PHONE = ui.viewports().find((v) => v.name === 'mobile');

ui.run(async (browser, result) => {
  result.langs = {};
  for (const u of USERS) {
    const context = await ui.newContext(browser, PHONE, { locale: u.lang === 'de' ? 'de-DE' : 'en-US' });
    const page = await context.newPage();
    const r = { pages: {}, errors: ui.watch(page, { http: false }) };

    // the sign-in page first, as everyone sees it
    await page.goto(`${BASE}/login`);
    r.pages.login = await look(page, SAMPLES[u.lang]);
    if (u.lang === 'de') await ui.shot(page, 'login-de-mobile', { fullPage: true });
    await ui.signIn(page, u.login, u.password);

    for (const p of PAGES) {
      const resp = await page.goto(`${BASE}${p.path}`, { waitUntil: 'load' });
      const l = await look(page, SAMPLES[u.lang]);
      l.status = resp ? resp.status() : null;
      r.pages[p.name] = l;
      if (u.lang === 'de') await ui.shot(page, `${p.name}-de-mobile`, { fullPage: true });
    }
    result.langs[u.lang] = r;
    await context.close();
  }
});
