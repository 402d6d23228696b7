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
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE'), TICKET = env('TICKET');

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports({ height: 900 }),
  { errors: { console: 'plain', http: false } }, async ({ page, v, r }) => {
    const width = () => ui.scrollWidth(page);

    // the public form first: no session
    await page.goto(`${BASE}/form`, { waitUntil: 'load' });
    r.formWidth = await width();
    r.honeypotVisible = await page.evaluate(() => {
      const el = document.querySelector('input[name=website]');
      const b = el.getBoundingClientRect();
      return b.right > 0 && b.bottom > 0 && b.left < innerWidth;
    });
    await ui.shot(page, `request-form-${v.name}`, { fullPage: true });
    await page.fill('#rf-name', `Rosa Rot ${v.name}`);
    await page.fill('#rf-email', `rosa.${v.name}@example.net`);
    await page.fill('#rf-subject', 'Ingewahrsamnahme');
    await page.fill('#rf-message', 'Mein Freund wurde mitgenommen.');
    await Promise.all([page.waitForNavigation(), page.click('form#request-form button[type=submit]')]);
    r.formDone = await page.evaluate(() => {
      const d = document.querySelector('#request-done');
      return d ? d.getAttribute('data-ticket') : null;
    });
    await ui.shot(page, `request-done-${v.name}`);

    await ui.login(page);

    // "::" in the composer
    await page.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
    const body = 'form#compose textarea[name=body]';
    await page.fill(body, '');
    await page.click(body);
    await page.keyboard.type('Liebe Grüße vorweg.\n::fr');
    await page.waitForSelector('ul.textmod-menu li', { timeout: 5000 }).catch(() => {});
    r.menu = await page.evaluate(() => Array.from(document.querySelectorAll('ul.textmod-menu li'))
      .filter((li) => li.offsetParent !== null).map((li) => li.getAttribute('data-keyword')));
    await ui.shot(page.locator('#composer'), `textmod-menu-${v.name}`);
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
    await ui.shot(page.locator('#composer'), `template-used-${v.name}`);

    // the admins' page (the user is an admin)
    await page.goto(`${BASE}/admin/text-modules`, { waitUntil: 'load' });
    r.adminWidth = await width();
    r.adminRows = await page.evaluate(() => document.querySelectorAll('table#textmods tr[data-id]').length);
    await ui.shot(page, `admin-text-modules-${v.name}`, { fullPage: true });

    await page.goto(`${BASE}/admin/customers?address=kim@example.net`, { waitUntil: 'load' });
    r.dpWidth = await width();
    r.dpAddress = await page.inputValue('form#dp-erase input[name=address]');
    await ui.shot(page, `admin-customers-${v.name}`, { fullPage: true });
    await page.goto(`${BASE}/admin/templates`, { waitUntil: 'load' });
    r.tplWidth = await width();
    await ui.shot(page, `admin-templates-${v.name}`, { fullPage: true });
  }));
