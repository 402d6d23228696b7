// pgp.js -- for t/pgp.t: in headless Chromium, a ticket whose mail has
// an attached PGP key: the PGP status line, one click on "import key"
// (ticket.js posts it with the page's CSRF token), the key page with the
// outcome, at desktop and phone sizes; screenshots, CSP violations and
// page errors.  Prints one JSON object.
//
//   BASE=... LOGIN=... PASSWORD=... TICKET=N OUT=dir node pgp.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
];

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'],
  });
  const result = { views: {} };
  try {
    for (const v of viewports) {
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
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

      await page.goto(`${BASE}/t/${TICKET}`);
      r.pgp = await page.evaluate(() => {
        const p = document.querySelector('article p.pgp');
        return p ? { status: p.getAttribute('data-pgp'), text: p.textContent.trim() } : null;
      });
      r.ticketCsp = await page.evaluate(() => window.__tkCsp);
      await page.screenshot({ path: `${OUT}/pgp-ticket-${v.name}.png`, fullPage: true });

      await Promise.all([page.waitForNavigation(), page.click('a.import-key')]);
      // the result page reloads itself until mailbridge answered
      await page.waitForSelector('#key-result[data-status="ok"], #key-result[data-status="error"]',
        { timeout: 20000 });
      r.keys = await page.evaluate(() => ({
        url: location.pathname + location.search,
        page: document.body.getAttribute('data-page'),
        status: document.querySelector('#key-result').getAttribute('data-status'),
        rows: document.querySelectorAll('table#keys tr[data-fpr]').length,
        navCurrent: !!document.querySelector('a#nav-keys[aria-current="page"]'),
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        csp: window.__tkCsp,
      }));
      await page.screenshot({ path: `${OUT}/pgp-keys-${v.name}.png`, fullPage: true });
      // a key file chosen in the file input lands in the textarea
      if (process.env.KEY_FILE) {
        await page.setInputFiles('#key-file', process.env.KEY_FILE);
        await page.waitForFunction(() => document.getElementById('key-text').value.length > 0);
        r.fileText = await page.evaluate(() => document.getElementById('key-text').value);
      }
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
