// admin.js -- for t/admin_ui.t: the administration pages in headless
// Chromium at desktop and phone sizes: the user list, one user's page,
// the outbox; page width, CSP violations, page errors; screenshots.
// Prints one JSON object.
//
//   BASE=... LOGIN=... PASSWORD=... USER=LOGIN OUT=dir node admin.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];

const measure = () => ({
  page: document.body.getAttribute('data-page'),
  h1: (document.querySelector('h1') || {}).textContent,
  scrollWidth: document.documentElement.scrollWidth,
  navCurrent: !!document.querySelector('a#nav-admin[aria-current="page"]'),
  rows: document.querySelectorAll('table.admin tbody tr').length,
  csp: window.__tkCsp,
});

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'],
  });
  const result = { views: {} };
  try {
    for (const v of viewports) {
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch, locale: 'de-DE',
      });
      await context.addInitScript(() => {
        window.__tkCsp = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__tkCsp.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
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

      // through the head's link, as an admin would
      await Promise.all([page.waitForNavigation(), page.click('a#nav-admin')]);
      r.index = await page.evaluate(measure);
      await Promise.all([page.waitForNavigation(), page.click('a[data-section=users]')]);
      r.users = await page.evaluate(measure);
      await page.screenshot({ path: `${OUT}/admin-users-${v.name}.png`, fullPage: true });

      await Promise.all([page.waitForNavigation(),
        page.click(`table#users tr[data-login="${env('USER')}"] td.login a`)]);
      r.user = await page.evaluate(measure);
      r.user.selects = await page.evaluate(() =>
        Array.from(document.querySelectorAll('table#user-rights select'))
          .map((s) => s.getBoundingClientRect().right <= document.documentElement.clientWidth));
      await page.screenshot({ path: `${OUT}/admin-user-${v.name}.png`, fullPage: true });

      await page.goto(`${BASE}/admin/outbox`);
      r.outbox = await page.evaluate(measure);
      await page.screenshot({ path: `${OUT}/admin-outbox-${v.name}.png`, fullPage: true });

      // the profile's API tokens (helper api): a new one, shown once, on
      // screen at 390 px too
      await page.goto(`${BASE}/profile`);
      await page.fill('form#token-new input[name=label]', `Skript ${v.name}`);
      await Promise.all([page.waitForNavigation(), page.click('form#token-new button[type=submit]')]);
      r.tokens = await page.evaluate(measure);
      r.tokens.newToken = await page.evaluate(() => {
        const c = document.querySelector('code#new-token');
        return c ? { len: c.textContent.length,
                     inside: c.getBoundingClientRect().right <= document.documentElement.clientWidth } : null;
      });
      r.tokens.listed = await page.evaluate(() => document.querySelectorAll('#token-list tr[data-token]').length);
      await page.screenshot({ path: `${OUT}/profile-tokens-${v.name}.png`, fullPage: true });
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
