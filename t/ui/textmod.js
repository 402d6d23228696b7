// textmod.js -- drives Chromium for t/ui_textmod.t at 1280 and 390 px:
// "::" in the composer's text offers text modules (textmod.js asks
// /text-modules.json), Enter puts the chosen one in with its
// placeholders filled; a ticket template chosen above the composer
// fills subject and text (a GET, no script needed); the admins' text
// module page; the public request form, sent by the browser.
// Screenshots into OUT.
//
//   BASE=... LOGIN=... PASSWORD=... TICKET=N TEMPLATE=ID OUT=dir node textmod.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const result = { views: {} };
  try {
    for (const v of viewports) {
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
        deviceScaleFactor: v.deviceScaleFactor || 1,
      });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
      const r = { errors };
      const width = () => page.evaluate(() => document.documentElement.scrollWidth);

      // the public form first: no session
      await page.goto(`${BASE}/form`, { waitUntil: 'load' });
      r.formWidth = await width();
      r.honeypotVisible = await page.evaluate(() => {
        const el = document.querySelector('input[name=website]');
        const b = el.getBoundingClientRect();
        return b.right > 0 && b.bottom > 0 && b.left < innerWidth;
      });
      await page.screenshot({ path: `${OUT}/request-form-${v.name}.png`, fullPage: true });
      await page.fill('#rf-name', `Rosa Rot ${v.name}`);
      await page.fill('#rf-email', `rosa.${v.name}@example.net`);
      await page.fill('#rf-subject', 'Ingewahrsamnahme');
      await page.fill('#rf-message', 'Mein Freund wurde mitgenommen.');
      await Promise.all([page.waitForNavigation(), page.click('form#request-form button[type=submit]')]);
      r.formDone = await page.evaluate(() => {
        const d = document.querySelector('#request-done');
        return d ? d.getAttribute('data-ticket') : null;
      });
      await page.screenshot({ path: `${OUT}/request-done-${v.name}.png` });

      await page.goto(`${BASE}/login`);
      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter')]);

      // "::" in the composer
      await page.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
      const body = 'form#compose textarea[name=body]';
      await page.fill(body, '');
      await page.click(body);
      await page.keyboard.type('Liebe Grüße vorweg.\n::fr');
      await page.waitForSelector('ul.textmod-menu li', { timeout: 5000 }).catch(() => {});
      r.menu = await page.evaluate(() => Array.from(document.querySelectorAll('ul.textmod-menu li'))
        .filter((li) => li.offsetParent !== null).map((li) => li.getAttribute('data-keyword')));
      await page.locator('#composer').screenshot({ path: `${OUT}/textmod-menu-${v.name}.png` });
      await page.keyboard.press('Enter');
      r.inserted = await page.inputValue(body);
      r.menuAfter = await page.evaluate(() => {
        const m = document.querySelector('ul.textmod-menu');
        return m ? !m.hidden : false;
      });
      r.ticketWidth = await width();

      // a template: the choice above the form, a GET
      await page.selectOption('select#template-choice', env('TEMPLATE'));
      await Promise.all([page.waitForNavigation(), page.click('form#template-pick button[type=submit]')]);
      r.templateSubject = await page.inputValue('form#compose input[name=subject]');
      r.templateBody = await page.inputValue(body);
      await page.locator('#composer').screenshot({ path: `${OUT}/template-used-${v.name}.png` });

      // the admins' page (the user is an admin)
      await page.goto(`${BASE}/admin/text-modules`, { waitUntil: 'load' });
      r.adminWidth = await width();
      r.adminRows = await page.evaluate(() => document.querySelectorAll('table#textmods tr[data-id]').length);
      await page.screenshot({ path: `${OUT}/admin-text-modules-${v.name}.png`, fullPage: true });

      await page.goto(`${BASE}/admin/customers?address=kim@example.net`, { waitUntil: 'load' });
      r.dpWidth = await width();
      r.dpAddress = await page.inputValue('form#dp-erase input[name=address]');
      await page.screenshot({ path: `${OUT}/admin-customers-${v.name}.png`, fullPage: true });
      await page.goto(`${BASE}/admin/templates`, { waitUntil: 'load' });
      r.tplWidth = await width();
      await page.screenshot({ path: `${OUT}/admin-templates-${v.name}.png`, fullPage: true });

      result.views[v.name] = r;
      await context.close();
    }
  } catch (e) {
    result.fatal = String(e && e.stack || e);
  }
  await browser.close();
  process.stdout.write(JSON.stringify(result) + '\n');
})();
