// ui_notify.js -- drives Debian's Chromium through playwright-core for
// t/ui_notify.t: logs in, looks at the bell in the page head, the
// notification matrix on the profile page and the notification list at
// desktop and phone sizes, types "@@xy" into the composer and picks the
// suggested agent; saves screenshots, prints what it saw as one JSON.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N MENTION=be \
//     OUT=dir node ui_notify.js
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
  return page.evaluate(() => {
    const vis = (sel) => {
      const e = document.querySelector(sel);
      if (!e) return null;
      const r = e.getBoundingClientRect();
      return { visible: r.width > 0 && r.height > 0, width: Math.round(r.width),
               right: Math.round(r.right), top: Math.round(r.top) };
    };
    return {
      page: document.body ? document.body.getAttribute('data-page') : null,
      bell: vis('a#nav-notifications'),
      badge: document.querySelector('#unread-count')
        ? document.querySelector('#unread-count').textContent : null,
      matrix: vis('form#notify-settings table.matrix'),
      boxes: Array.from(document.querySelectorAll('form#notify-settings table.matrix input[type=checkbox]'))
        .filter((b) => { const r = b.getBoundingClientRect(); return r.width >= 16 && r.height >= 16; }).length,
      notices: document.querySelectorAll('ul#notices li.notice').length,
      unread: document.querySelectorAll('ul#notices li.notice.unread').length,
      scrollWidth: document.documentElement.scrollWidth,
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

      await page.goto(`${BASE}/profile#notify`);
      r.profile = await facts(page);
      const section = await page.$('section#notify');
      await section.screenshot({ path: `${OUT}/notify-profile-${v.name}.png` });

      await page.goto(`${BASE}/notifications`);
      r.list = await facts(page);
      await page.screenshot({ path: `${OUT}/notify-list-${v.name}.png`, fullPage: true });

      // @@ in the composer's body: the agent suggested, picked
      await page.goto(`${BASE}/t/${env('TICKET')}`);
      await page.click('form#compose textarea[name=body]');
      await page.keyboard.type(`Bitte schau mal @@${env('MENTION')}`);
      let sug = null;
      try {
        await page.waitForSelector('ul#mention-suggest li[data-login]', { timeout: 5000 });
        sug = await page.$$eval('ul#mention-suggest li[data-login]', (l) => l.map((x) => x.getAttribute('data-login')));
        await page.dispatchEvent('ul#mention-suggest li[data-login]', 'mousedown');
      } catch (e) { errors.push(`no suggestion: ${e.message}`); }
      r.mention = {
        suggested: sug,
        value: await page.$eval('form#compose textarea[name=body]', (t) => t.value),
      };

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
