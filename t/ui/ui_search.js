// ui_search.js -- drives Debian's Chromium through playwright-core for
// t/ui_search.t: logs in, types a search into the box in the page head
// (form#search), looks at the results at desktop and phone sizes, saves
// screenshots and prints what it saw as one JSON object.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... QUERY=... OUT=dir \
//     node ui_search.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const QUERY = env('QUERY');

async function facts(page) {
  return page.evaluate(() => {
    const box = document.querySelector('form#search input[name=q]');
    const r = box ? box.getBoundingClientRect() : null;
    return {
      url: location.pathname + location.search,
      page: document.body ? document.body.getAttribute('data-page') : null,
      hits: document.querySelectorAll('ol#results li[data-number]').length,
      marks: document.querySelectorAll('ol#results .snippet mark').length,
      scripts: document.querySelectorAll('ol#results script').length,
      snippetText: Array.from(document.querySelectorAll('ol#results .snippet'))
        .map((s) => s.textContent).join('\n'),
      total: document.querySelector('#total') ? document.querySelector('#total').textContent : null,
      box: r ? { width: Math.round(r.width), visible: r.width > 0 && r.height > 0 } : null,
      value: document.querySelector('form#search-form input[name=q]')
        ? document.querySelector('form#search-form input[name=q]').value : null,
      scrollWidth: document.documentElement.scrollWidth,
      pwned: typeof window.tkPwned === 'undefined' ? null : String(window.tkPwned),
    };
  });
}

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports(),
  { errors: { console: 'located' } }, async ({ page, v, r }) => {
    await ui.login(page);
    r.overview = await facts(page);

    // the box in the page head: type, Enter
    await page.fill('form#search input[name=q]', QUERY);
    await Promise.all([
      page.waitForNavigation(),
      page.press('form#search input[name=q]', 'Enter'),
    ]);
    r.results = await facts(page);
    await ui.shot(page, `search-${v.name}`, { fullPage: true });

    // sorting by date from the results page's own form
    await Promise.all([
      page.waitForNavigation(),
      page.selectOption('form#search-form select[name=sort]', 'date'),
    ]);
    r.byDate = await facts(page);
  }));
