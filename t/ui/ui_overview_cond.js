// ui_overview_cond.js -- drives Debian's Chromium through playwright-core
// for t/ui_overview_cond.t (issue 12): at desktop and phone sizes, types
// a created range into the filter bar of /overview/all, sends it with
// "Apply" (shown once a typed field was edited), then a customer's
// address on top; reads the rows, the fields and their boxes.
// Screenshots into OUT; one JSON object on stdout.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... OUT=dir \
//   CFROM=YYYY-MM-DD CTO=YYYY-MM-DD CUSTOMER=address node ui_overview_cond.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

async function facts(page) {
  return page.evaluate(() => ({
    url: location.pathname + location.search,
    numbers: Array.from(document.querySelectorAll('table#tickets tr[data-number]'))
      .map((tr) => tr.getAttribute('data-number')),
    total: document.querySelector('#total') ? document.querySelector('#total').textContent : null,
    reset: !!document.querySelector('form.filters a.reset'),
    fields: ['created_from', 'created_to', 'customer'].map((n) => {
      const el = document.querySelector(`form.filters input[name=${n}]`);
      const b = el.getBoundingClientRect();
      return { name: n, value: el.value, right: Math.round(b.right), width: Math.round(b.width) };
    }),
    sortLink: document.querySelector('table#tickets th a[data-sort=number]')
      ? document.querySelector('table#tickets th a[data-sort=number]').getAttribute('href') : null,
    scrollWidth: document.documentElement.scrollWidth,
  }));
}

async function apply(page) {
  await Promise.all([
    page.waitForNavigation(),
    page.click('form.filters button[type=submit]'),
  ]);
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
      await page.goto(`${BASE}/overview/all`);
      r.buttonBefore = await page.isVisible('form.filters button[type=submit]');

      // created from / until: typed into the date fields, then "Apply"
      await page.fill('form.filters input[name=created_from]', env('CFROM'));
      await page.fill('form.filters input[name=created_to]', env('CTO'));
      r.buttonAfter = await page.isVisible('form.filters button[type=submit]');
      await apply(page);
      r.created = await facts(page);

      // a customer by address on top
      await page.fill('form.filters input[name=customer]', env('CUSTOMER'));
      await apply(page);
      r.customer = await facts(page);
      await page.screenshot({ path: `${OUT}/overview-created-${v.name}.png`, fullPage: v.name === 'desktop' });

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
