// ui_overviews.js -- drives Debian's Chromium through playwright-core for
// t/ui_overviews.t: logs in, filters /overview/all with the filter bar
// (owner, priority), saves the result as a new overview, looks at it at
// desktop and phone sizes, and moves a ticket to another group to see the
// owner choice follow.  Screenshots into OUT; one JSON object on stdout.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N OUT=dir \
//     node ui_overviews.js
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
    const cur = document.querySelector('nav#overviews a.current');
    const save = document.querySelector('form#overview-save input[name=name]');
    const r = save ? save.getBoundingClientRect() : null;
    return {
      url: location.pathname + location.search,
      rows: document.querySelectorAll('table#tickets tr[data-number]').length,
      owners: Array.from(document.querySelectorAll('table#tickets tr[data-number] td.owner'))
        .map((td) => td.textContent.trim()),
      prios: Array.from(document.querySelectorAll('table#tickets tr[data-number]'))
        .map((tr) => tr.className),
      current: cur ? cur.getAttribute('data-overview') : null,
      currentLabel: cur ? cur.querySelector('.label').textContent : null,
      currentCount: cur && cur.querySelector('.count') ? cur.querySelector('.count').textContent : null,
      total: document.querySelector('#total') ? document.querySelector('#total').textContent : null,
      heading: document.querySelector('h1.overview-title')
        ? document.querySelector('h1.overview-title').textContent : null,
      saveBox: r ? { width: Math.round(r.width), visible: r.width > 0 && r.height > 0 } : null,
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
      await page.goto(`${BASE}/overview/all`);

      // the filter bar: each select sends the form (data-autosubmit)
      await Promise.all([
        page.waitForNavigation(),
        page.selectOption('form.filters select[name=owner]', 'me'),
      ]);
      await Promise.all([
        page.waitForNavigation(),
        page.selectOption('form.filters select[name=priority]', '4'),
      ]);
      r.filtered = await facts(page);

      // save it: open the box, name it, save as new
      await page.click('details.overview-save summary');
      await page.fill('form#overview-save input[name=name]', `Dringend meine ${v.name}`);
      await Promise.all([
        page.waitForNavigation(),
        page.click('form#overview-save button[name=new]'),
      ]);
      r.saved = await facts(page);
      await page.screenshot({ path: `${OUT}/overview-filter-${v.name}.png`, fullPage: v.name === 'desktop' });

      // the ticket page: the owner choice follows the group select
      await page.goto(`${BASE}/t/${TICKET}`);
      const visible = () => page.evaluate(() => Array.from(
        document.querySelectorAll('form#ticket-update select[name=owner] option'))
        .filter((o) => !o.hidden && o.value !== '').map((o) => o.value));
      r.ownersBefore = await visible();
      await page.selectOption('form#ticket-update select[name=group]', 'Zivilrecht');
      r.ownersAfter = await visible();

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
