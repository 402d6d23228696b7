// ui_casework.js -- drives Debian's Chromium through playwright-core for
// t/ui_casework.t (issue 13): on the ticket page adds two tags through the
// form (no script needed), removes one with its button, merges a
// duplicate through the merge form, opens the customer page; at desktop
// and phone sizes; saves screenshots and prints what it saw as JSON.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... OUT=dir \
//   TICKETS=a,b,c,d (one pair per view: ticket, duplicate) CUSTOMER=ID \
//     node ui_casework.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE');
const TICKETS = env('TICKETS').split(',');

const facts = (page) => page.evaluate(() => ({
  url: location.pathname + location.search + location.hash,
  page: document.body ? document.body.getAttribute('data-page') : null,
  tags: Array.from(document.querySelectorAll('ul#tag-list a.tag')).map((a) => a.textContent),
  options: document.querySelectorAll('datalist#tag-names option').length,
  merged: document.querySelector('#merged-into a')
    ? document.querySelector('#merged-into a').getAttribute('href') : null,
  customerTickets: document.querySelectorAll('#customer-tickets tr[data-number]').length,
  customerForm: !!document.querySelector('form#customer-edit'),
  scrollWidth: document.documentElement.scrollWidth,
}));

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports(), {},
  async ({ page, v, r, i }) => {
    const [ticket, dup] = [TICKETS[2 * i], TICKETS[2 * i + 1]];
    await ui.login(page);

    // tags: two through the form, one removed with its button
    await page.goto(`${BASE}/t/${ticket}`);
    r.before = await facts(page);
    // with the script: suggestions follow the comma list
    await page.fill('form#tag-add input#f-tags', 'mietrecht, ka');
    r.suggest = await page.evaluate(() => Array.from(
      document.querySelectorAll('datalist#tag-names option')).map((o) => o.value));
    await page.fill('form#tag-add input#f-tags', 'Mietrecht, Eilt, Räumung');
    await Promise.all([page.waitForNavigation(), page.click('form#tag-add button[type=submit]')]);
    r.added = await facts(page);
    await Promise.all([page.waitForNavigation(),
      page.click('ul#tag-list li.tag-item:has(a.tag:text-is("eilt")) form.tag-remove button')]);
    r.removed = await facts(page);
    await page.locator('section#tags').scrollIntoViewIfNeeded();
    await ui.shot(page, `tags-${v.name}`);

    // merge: the duplicate into the ticket
    await page.goto(`${BASE}/t/${dup}`);
    await page.fill('form#ticket-merge input#f-into', ticket);
    await Promise.all([page.waitForNavigation(), page.click('form#ticket-merge button[type=submit]')]);
    r.afterMerge = await facts(page);
    await page.goto(`${BASE}/t/${dup}`);
    r.merged = await facts(page);
    await ui.shot(page, `merge-${v.name}`);

    // the customer page
    await page.goto(`${BASE}/customers/${env('CUSTOMER')}`);
    r.customer = await facts(page);
    await ui.shot(page, `customer-${v.name}`, { fullPage: true });
  }));
