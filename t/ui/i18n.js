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
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT');
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

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const result = { browser: browser.version(), langs: {} };
  try {
    for (const u of USERS) {
      const context = await browser.newContext({
        viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
        deviceScaleFactor: 2, locale: u.lang === 'de' ? 'de-DE' : 'en-US',
      });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      const r = { pages: {}, errors };

      // the sign-in page first, as everyone sees it
      await page.goto(`${BASE}/login`);
      r.pages.login = await look(page, SAMPLES[u.lang]);
      if (u.lang === 'de') await page.screenshot({ path: `${OUT}/login-de-mobile.png`, fullPage: true });
      await page.fill('form#login input[name=login]', u.login);
      await page.fill('form#login input[name=password]', u.password);
      await Promise.all([
        page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter'),
      ]);

      for (const p of PAGES) {
        const resp = await page.goto(`${BASE}${p.path}`, { waitUntil: 'load' });
        const l = await look(page, SAMPLES[u.lang]);
        l.status = resp ? resp.status() : null;
        r.pages[p.name] = l;
        if (u.lang === 'de') {
          await page.screenshot({ path: `${OUT}/${p.name}-de-mobile.png`, fullPage: true });
        }
      }
      result.langs[u.lang] = r;
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
})().catch((e) => {
  process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n');
  process.exit(1);
});
