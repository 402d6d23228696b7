// pgp.js -- for t/pgp.t: in headless Chromium, a ticket whose mail has
// an attached PGP key: the PGP status line, one click on "import key"
// (ticket.js posts it with the page's CSRF token), the key page with the
// outcome, at desktop and phone sizes; screenshots, CSP violations and
// page errors.  Prints one JSON object.
//
//   BASE=... LOGIN=... PASSWORD=... TICKET=N OUT=dir node pgp.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE'), TICKET = env('TICKET');

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports({ scale: 1 }),
  { csp: true }, async ({ page, v, r }) => {
    await ui.login(page);

    await page.goto(`${BASE}/t/${TICKET}`);
    r.pgp = await page.evaluate(() => {
      const p = document.querySelector('article p.pgp');
      return p ? { status: p.getAttribute('data-pgp'), text: p.textContent.trim() } : null;
    });
    r.ticketCsp = await page.evaluate(() => window.__tkCsp);
    await ui.shot(page, `pgp-ticket-${v.name}`, { fullPage: true });

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
    await ui.shot(page, `pgp-keys-${v.name}`, { fullPage: true });
    // a key file chosen in the file input lands in the textarea
    if (process.env.KEY_FILE) {
      await page.setInputFiles('#key-file', process.env.KEY_FILE);
      await page.waitForFunction(() => document.getElementById('key-text').value.length > 0);
      r.fileText = await page.evaluate(() => document.getElementById('key-text').value);
    }
  }));
