// ui_search.js -- drives Debian's Chromium through playwright-core for
// t/ui_search.t: logs in, types a search into the box in the page head
// (form#search), looks at the results at desktop and phone sizes, saves
// screenshots and prints what it saw as one JSON object.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... QUERY=... OUT=dir \
//     node ui_search.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), QUERY = env('QUERY');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

async function facts(page) {
  return page.evaluate(() => {
    const box = document.querySelector('form#search input[name=q]');
    const r = box ? box.getBoundingClientRect() : null;
    return {
      url: location.pathname + location.search,
      page: document.body ? document.body.getAttribute('data-page') : null,
      hits: document.querySelectorAll('ol#results li[data-number]').length,
      marks: document.querySelectorAll('ol#results .snippet mark').length,
      scripts: document.querySelectorAll('ol#results script').length,
      snippetText: Array.from(document.querySelectorAll('ol#results .snippet'))
        .map((s) => s.textContent).join('\n'),
      total: document.querySelector('#total') ? document.querySelector('#total').textContent : null,
      box: r ? { width: Math.round(r.width), visible: r.width > 0 && r.height > 0 } : null,
      value: document.querySelector('form#search-form input[name=q]')
        ? document.querySelector('form#search-form input[name=q]').value : null,
      scrollWidth: document.documentElement.scrollWidth,
      pwned: typeof window.tkPwned === 'undefined' ? null : String(window.tkPwned),
    };
  });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const result = { browser: browser.version(), views: {} };
  try {
    for (const v of viewports) {
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
        deviceScaleFactor: v.deviceScaleFactor || 1,
      });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        const where = (m.location() && m.location().url) || '';
        if (m.type() === 'error' && !where.endsWith('/favicon.ico')) {
          errors.push(`console: ${m.text()} ${where}`);
        }
      });
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
      const r = { errors };

      await page.goto(`${BASE}/login`);
      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([
        page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter'),
      ]);
      r.overview = await facts(page);

      // the box in the page head: type, Enter
      await page.fill('form#search input[name=q]', QUERY);
      await Promise.all([
        page.waitForNavigation(),
        page.press('form#search input[name=q]', 'Enter'),
      ]);
      r.results = await facts(page);
      await page.screenshot({ path: `${OUT}/search-${v.name}.png`, fullPage: true });

      // sorting by date from the results page's own form
      await Promise.all([
        page.waitForNavigation(),
        page.selectOption('form#search-form select[name=sort]', 'date'),
      ]);
      r.byDate = await facts(page);

      result.views[v.name] = r;
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
