// ui.js -- drives Debian's Chromium through playwright-core for t/ui.t:
// logs in, opens the overview and a ticket at desktop and phone sizes,
// saves screenshots and prints what it saw as one JSON object.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N OUT=dir node ui.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

async function facts(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    return {
      url: location.pathname + location.search,
      page: document.body ? document.body.getAttribute('data-page') : null,
      rows: document.querySelectorAll('table#tickets tr[data-number]').length,
      title: q('h1#title') ? q('h1#title').textContent.trim() : null,
      user: q('#user') ? q('#user').textContent.trim() : null,
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      stylesheets: document.styleSheets.length,
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
        // a browser asks for /favicon.ico on its own; not the page's fault
        if (m.type() === 'error' && !where.endsWith('/favicon.ico')) {
          errors.push(`console: ${m.text()} ${where}`);
        }
      });
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
      const r = { errors };

      await page.goto(`${BASE}/login`);
      r.login = await facts(page);
      await page.screenshot({ path: `${OUT}/login-${v.name}.png`, fullPage: true });

      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([
        page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter'),
      ]);
      r.overview = await facts(page);
      await page.screenshot({ path: `${OUT}/overview-${v.name}.png`, fullPage: true });

      // a click on a row's title opens the ticket
      const link = await page.$(`table#tickets tr[data-number="${TICKET}"] a[href$="/t/${TICKET}"]`);
      if (link) {
        await Promise.all([page.waitForNavigation(), link.click()]);
      } else {
        await page.goto(`${BASE}/t/${TICKET}`);
      }
      r.clicked = !!link;
      r.ticket = await facts(page);
      await page.screenshot({ path: `${OUT}/ticket-${v.name}.png`, fullPage: true });

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
