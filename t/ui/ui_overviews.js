// ui_overviews.js -- drives Debian's Chromium through playwright-core for
// t/ui_overviews.t: logs in, filters /overview/all with the filter bar
// (owner, priority), saves the result as a new overview, looks at it at
// desktop and phone sizes, and moves a ticket to another group to see the
// owner choice follow.  Screenshots into OUT; one JSON object on stdout.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N OUT=dir \
//     node ui_overviews.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE'), TICKET = env('TICKET');

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

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports(),
  { errors: { console: 'located' } }, async ({ page, v, r }) => {
    await ui.login(page);
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
    await ui.shot(page, `overview-filter-${v.name}`, { fullPage: v.name === 'desktop' });

    // the ticket page: the owner choice follows the group select
    await page.goto(`${BASE}/t/${TICKET}`);
    const visible = () => page.evaluate(() => Array.from(
      document.querySelectorAll('form#ticket-update select[name=owner] option'))
      .filter((o) => !o.hidden && o.value !== '').map((o) => o.value));
    r.ownersBefore = await visible();
    await page.selectOption('form#ticket-update select[name=group]', 'Zivilrecht');
    r.ownersAfter = await visible();
  }));
