// ui_casework.js -- drives Debian's Chromium through playwright-core for
// t/ui_casework.t (issue 13): on the ticket page adds two tags through the
// form (no script needed), removes one with its button, merges a
// duplicate through the merge form, opens the customer page; at desktop
// and phone sizes; saves screenshots and prints what it saw as JSON.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... OUT=dir \
//   TICKETS=a,b,c,d (one pair per view: ticket, duplicate) CUSTOMER=ID \
//     node ui_casework.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT');
const TICKETS = env('TICKETS').split(',');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

const facts = (page) => page.evaluate(() => ({
  url: location.pathname + location.search + location.hash,
  page: document.body ? document.body.getAttribute('data-page') : null,
  tags: Array.from(document.querySelectorAll('ul#tag-list a.tag')).map((a) => a.textContent),
  options: document.querySelectorAll('datalist#tag-names option').length,
  merged: document.querySelector('#merged-into a')
    ? document.querySelector('#merged-into a').getAttribute('href') : null,
  customerTickets: document.querySelectorAll('#customer-tickets tr[data-number]').length,
  customerForm: !!document.querySelector('form#customer-edit'),
  scrollWidth: document.documentElement.scrollWidth,
}));

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const result = { browser: browser.version(), views: {} };
  try {
    for (const [i, v] of viewports.entries()) {
      const [ticket, dup] = [TICKETS[2 * i], TICKETS[2 * i + 1]];
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
        deviceScaleFactor: v.deviceScaleFactor || 1,
      });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
      const r = { errors };

      await page.goto(`${BASE}/login`);
      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([page.waitForNavigation(), page.press('form#login input[name=password]', 'Enter')]);

      // tags: two through the form, one removed with its button
      await page.goto(`${BASE}/t/${ticket}`);
      r.before = await facts(page);
      // with the script: suggestions follow the comma list
      await page.fill('form#tag-add input#f-tags', 'mietrecht, ka');
      r.suggest = await page.evaluate(() => Array.from(
        document.querySelectorAll('datalist#tag-names option')).map((o) => o.value));
      await page.fill('form#tag-add input#f-tags', 'Mietrecht, Eilt, Räumung');
      await Promise.all([page.waitForNavigation(), page.click('form#tag-add button[type=submit]')]);
      r.added = await facts(page);
      await Promise.all([page.waitForNavigation(),
        page.click('ul#tag-list li.tag-item:has(a.tag:text-is("eilt")) form.tag-remove button')]);
      r.removed = await facts(page);
      await page.locator('section#tags').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${OUT}/tags-${v.name}.png` });

      // merge: the duplicate into the ticket
      await page.goto(`${BASE}/t/${dup}`);
      await page.fill('form#ticket-merge input#f-into', ticket);
      await Promise.all([page.waitForNavigation(), page.click('form#ticket-merge button[type=submit]')]);
      r.afterMerge = await facts(page);
      await page.goto(`${BASE}/t/${dup}`);
      r.merged = await facts(page);
      await page.screenshot({ path: `${OUT}/merge-${v.name}.png` });

      // the customer page
      await page.goto(`${BASE}/customers/${env('CUSTOMER')}`);
      r.customer = await facts(page);
      await page.screenshot({ path: `${OUT}/customer-${v.name}.png`, fullPage: true });

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
