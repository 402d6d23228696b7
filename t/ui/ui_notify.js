// ui_notify.js -- drives Debian's Chromium through playwright-core for
// t/ui_notify.t: logs in, looks at the bell in the page head, the
// notification matrix on the profile page and the notification list at
// desktop and phone sizes, types "@@xy" into the composer and picks the
// suggested agent; saves screenshots, prints what it saw as one JSON.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N MENTION=be \
//     OUT=dir node ui_notify.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE');

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

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports(),
  { errors: { console: 'located' } }, async ({ page, v, r }) => {
    await ui.login(page);
    r.overview = await facts(page);

    await page.goto(`${BASE}/profile#notify`);
    r.profile = await facts(page);
    const section = await page.$('section#notify');
    await ui.shot(section, `notify-profile-${v.name}`);

    await page.goto(`${BASE}/notifications`);
    r.list = await facts(page);
    await ui.shot(page, `notify-list-${v.name}`, { fullPage: true });

    // @@ in the composer's body: the agent suggested, picked
    await page.goto(`${BASE}/t/${env('TICKET')}`);
    await page.click('form#compose textarea[name=body]');
    await page.keyboard.type(`Bitte schau mal @@${env('MENTION')}`);
    let sug = null;
    try {
      await page.waitForSelector('ul#mention-suggest li[data-login]', { timeout: 5000 });
      sug = await page.$$eval('ul#mention-suggest li[data-login]', (l) => l.map((x) => x.getAttribute('data-login')));
      await page.dispatchEvent('ul#mention-suggest li[data-login]', 'mousedown');
    } catch (e) { r.errors.push(`no suggestion: ${e.message}`); }
    r.mention = {
      suggested: sug,
      value: await page.$eval('form#compose textarea[name=body]', (t) => t.value),
    };
  }));
