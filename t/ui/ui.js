// ui.js -- drives Debian's Chromium through playwright-core for t/ui.t:
// logs in, opens the overview, a ticket and (with MAIL_TICKET) a ticket
// holding a hostile HTML mail at desktop and phone sizes, saves
// screenshots and prints what it saw as one JSON object.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N OUT=dir \
//     [MAIL_TICKET=N] node ui.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');
const MAIL_TICKET = process.env.MAIL_TICKET;

// What the mail's HTML could have done, had anything of it run.
async function mailFacts(page) {
  return page.evaluate(() => {
    const body = document.querySelector('article .body-html');
    const imgs = body ? Array.from(body.querySelectorAll('img')) : [];
    const logo = imgs.find((i) => i.getAttribute('alt') === 'logo');
    const tracker = imgs.find((i) => i.getAttribute('alt') === 'tracker');
    return {
      pwned: typeof window.tkPwned === 'undefined' ? null : String(window.tkPwned),
      title: document.title,
      violations: window.__tkCsp || [],
      htmlBody: !!body,
      files: document.querySelectorAll('article .files li.file a.download').length,
      fileNames: Array.from(document.querySelectorAll('article .files li.file a.download'))
        .map((a) => a.textContent.trim()),
      rawLink: !!document.querySelector('article a.raw-mail[href$="/raw"]'),
      loadImages: !!document.querySelector('article a.load-images'),
      logoLoaded: !!(logo && logo.complete && logo.naturalWidth > 0),
      trackerSrc: tracker ? tracker.getAttribute('src') : 'missing',
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

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
      // CSP violations as the page sees them (an init script comes from
      // the browser's side, not from the page, so the CSP does not apply)
      await context.addInitScript(() => {
        window.__tkCsp = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__tkCsp.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      const page = await context.newPage();
      const errors = [];
      const foreign = [];
      page.on('request', (q) => { if (!q.url().startsWith(BASE) && !q.url().startsWith('data:')) foreign.push(q.url()); });
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

      if (MAIL_TICKET) {
        await page.goto(`${BASE}/t/${MAIL_TICKET}`, { waitUntil: 'load' });
        r.mail = await mailFacts(page);
        r.mail.page = (await facts(page)).page;
        await page.screenshot({ path: `${OUT}/mail-${v.name}.png`, fullPage: true });
      }
      r.foreign = foreign;

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
