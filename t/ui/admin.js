// admin.js -- for t/admin_ui.t: the administration pages in headless
// Chromium at desktop and phone sizes: the user list, one user's page,
// the outbox; page width, CSP violations, page errors; screenshots.
// Prints one JSON object.
//
//   BASE=... LOGIN=... PASSWORD=... USER=LOGIN OUT=dir node admin.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE');

const measure = () => ({
  page: document.body.getAttribute('data-page'),
  h1: (document.querySelector('h1') || {}).textContent,
  scrollWidth: document.documentElement.scrollWidth,
  navCurrent: !!document.querySelector('a#nav-admin[aria-current="page"]'),
  rows: document.querySelectorAll('table.admin tbody tr').length,
  csp: window.__tkCsp,
});

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports({ scale: 1 }),
  { locale: 'de-DE', csp: true }, async ({ page, v, r }) => {
    await ui.login(page);

    // through the head's link, as an admin would
    await Promise.all([page.waitForNavigation(), page.click('a#nav-admin')]);
    r.index = await page.evaluate(measure);
    await Promise.all([page.waitForNavigation(), page.click('a[data-section=users]')]);
    r.users = await page.evaluate(measure);
    await ui.shot(page, `admin-users-${v.name}`, { fullPage: true });

    await Promise.all([page.waitForNavigation(),
      page.click(`table#users tr[data-login="${env('USER')}"] td.login a`)]);
    r.user = await page.evaluate(measure);
    r.user.selects = await page.evaluate(() =>
      Array.from(document.querySelectorAll('table#user-rights select'))
        .map((s) => s.getBoundingClientRect().right <= document.documentElement.clientWidth));
    await ui.shot(page, `admin-user-${v.name}`, { fullPage: true });

    await page.goto(`${BASE}/admin/outbox`);
    r.outbox = await page.evaluate(measure);
    await ui.shot(page, `admin-outbox-${v.name}`, { fullPage: true });

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
    await ui.shot(page, `profile-tokens-${v.name}`, { fullPage: true });
  }));
