// ui.js -- drives Debian's Chromium through playwright-core for t/ui.t:
// logs in, opens the overview, a ticket and (with MAIL_TICKET) a ticket
// holding a hostile HTML mail at desktop and phone sizes, saves
// screenshots and prints what it saw as one JSON object.
//
//   BASE=http://127.0.0.1:PORT LOGIN=... PASSWORD=... TICKET=N OUT=dir \
//     [MAIL_TICKET=N] [MOVE_TICKET=N MOVE_TO=GROUP] node ui.js
//
// MOVE_TICKET: a ticket whose owner has no right on MOVE_TO; moving it
// there must bring the form back with the message at the owner field.
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE'), TICKET = env('TICKET');
const MAIL_TICKET = process.env.MAIL_TICKET;
const MOVE_TICKET = process.env.MOVE_TICKET, MOVE_TO = process.env.MOVE_TO;

// What the mail's HTML could have done, had anything of it run.
async function mailFacts(page) {
  return page.evaluate(() => {
    const body = document.querySelector('article .body-html');
    const imgs = body ? Array.from(body.querySelectorAll('img')) : [];
    const logo = imgs.find((i) => i.getAttribute('alt') === 'logo');
    const tracker = imgs.find((i) => /tracker/.test(i.getAttribute('data-src') || ''));
    const tbox = tracker ? tracker.getBoundingClientRect() : null;
    return {
      pwned: typeof window.tkPwned === 'undefined' ? null : String(window.tkPwned),
      title: document.title,
      violations: window.__tkCsp || [],
      htmlBody: !!body,
      files: document.querySelectorAll('article .files li.file a.download').length,
      fileNames: Array.from(document.querySelectorAll('article .files li.file a.download'))
        .map((a) => a.textContent.trim()),
      rawLink: !!document.querySelector('article a.raw-mail[href$="/raw"]'),
      loadImages: !!document.querySelector('article a.load-images'),
      logoLoaded: !!(logo && logo.complete && logo.naturalWidth > 0),
      trackerSrc: tracker ? tracker.getAttribute('src') : 'missing',
      trackerAlt: tracker ? tracker.getAttribute('alt') : 'missing',
      // a neutral box: some size, no broken-image rendering of an alt text
      trackerBox: tbox ? [Math.round(tbox.width), Math.round(tbox.height)] : null,
      trackerBg: tracker ? getComputedStyle(tracker).backgroundColor : null,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

async function facts(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    return {
      url: location.pathname + location.search,
      page: document.body ? document.body.getAttribute('data-page') : null,
      rows: document.querySelectorAll('table#tickets tr[data-number]').length,
      title: q('h1#title') ? q('h1#title').textContent.trim() : null,
      user: q('#user') ? q('#user').textContent.trim() : null,
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
      stylesheets: document.styleSheets.length,
      lang: document.documentElement.getAttribute('lang'),
      h1: q('h1') ? q('h1').textContent.trim() : null,
      // the top bar with "go to ticket": height, and whether the field
      // fits the screen
      headerHeight: q('header.top') ? Math.round(q('header.top').getBoundingClientRect().height) : null,
      gotoRight: q('form#search') ? Math.round(q('form#search').getBoundingClientRect().right) : null,
      gotoWidth: q('form#search input') ? Math.round(q('form#search input').getBoundingClientRect().width) : null,
      history: Array.from(document.querySelectorAll('ol#history li .what')).map((e) => ({
        text: e.textContent.trim(),
        titles: Array.from(e.querySelectorAll('.user')).map((u) => u.getAttribute('title')),
      })),
    };
  });
}

// the refused move below answers 422 on purpose (checked there)
const refusedMove = (r) => r.status() === 422 && r.url().endsWith('/update');

// the collective's browsers are German (Accept-Language: de-DE)
ui.run((browser, result) => ui.eachView(browser, result, ui.viewports(), {
  locale: 'de-DE', csp: true,
  errors: { console: 'located', http: refusedMove, ignoreConsole: (t) => /status of 422 .*\/update$/.test(t) },
}, async ({ page, v, r }) => {
    const foreign = [];
    page.on('request', (q) => { if (!q.url().startsWith(BASE) && !q.url().startsWith('data:')) foreign.push(q.url()); });

    // a browser set to English gets English, one set to German (the
    // context below) German
    const en = await browser.newContext({ viewport: v.viewport, locale: 'en-US' });
    const enPage = await en.newPage();
    await enPage.goto(`${BASE}/login`);
    r.loginEn = await facts(enPage);
    await en.close();

    await page.goto(`${BASE}/login`);
    r.login = await facts(page);
    await ui.shot(page, `login-${v.name}`, { fullPage: true });

    await ui.signIn(page);
    r.overview = await facts(page);
    await ui.shot(page, `overview-${v.name}`, { fullPage: true });

    // "go to ticket" as a number is read out on the phone
    await page.fill('form#search input[name=q]', ` [Ticket#${TICKET}] `);
    await Promise.all([
      page.waitForNavigation(),
      page.press('form#search input[name=q]', 'Enter'),
    ]);
    r.goto = await facts(page);
    await page.goto(`${BASE}/`);

    // a click on a row's title opens the ticket
    const link = await page.$(`table#tickets tr[data-number="${TICKET}"] a[href$="/t/${TICKET}"]`);
    if (link) {
      await Promise.all([page.waitForNavigation(), link.click()]);
    } else {
      await page.goto(`${BASE}/t/${TICKET}`);
    }
    r.clicked = !!link;
    r.ticket = await facts(page);
    await ui.shot(page, `ticket-${v.name}`, { fullPage: true });

    if (MOVE_TICKET) {
      await page.goto(`${BASE}/t/${MOVE_TICKET}`);
      const was = await page.$eval('form#ticket-update select[name=owner]', (s) => s.value);
      await page.selectOption('form#ticket-update select[name=group]', MOVE_TO);
      // the owner choice follows the group (static/ticket.js): the owner
      // who may not work there falls back to nobody ...
      r.ownerAfterMove = await page.$eval('form#ticket-update select[name=owner]', (s) => s.value);
      // ... and a stale choice (a form without the script) is refused
      // by the server: pick the old owner again
      await page.evaluate((login) => {
        const s = document.querySelector('form#ticket-update select[name=owner]');
        const o = Array.from(s.options).find((x) => x.value === login);
        if (o) { o.disabled = false; o.hidden = false; s.value = login; }
      }, was);
      const [resp] = await Promise.all([
        page.waitForNavigation(),
        page.click('form#ticket-update button[type=submit]'),
      ]);
      r.invalid = await page.evaluate(() => {
        const q = (s) => document.querySelector(s);
        const sel = q('form#ticket-update select[name=owner]');
        const msg = q('form#ticket-update .field-error');
        const sb = sel ? sel.getBoundingClientRect() : null;
        const mb = msg ? msg.getBoundingClientRect() : null;
        return {
          page: document.body.getAttribute('data-page'),
          messages: document.querySelectorAll('form#ticket-update .field-error').length,
          text: msg ? msg.textContent.trim() : null,
          id: msg ? msg.id : null,
          visible: !!(mb && mb.width > 0 && mb.height > 0),
          // right under the owner select, as wide as the form column
          gap: sb && mb ? Math.round(mb.top - sb.bottom) : null,
          sameColumn: sb && mb ? Math.abs(sb.left - mb.left) < 2 : false,
          banner: !!q('.flash.error'),
          group: q('select[name=group]').value,
          owner: sel ? sel.value : null,
          scrollWidth: document.documentElement.scrollWidth,
        };
      });
      r.invalid.status = resp ? resp.status() : null;
      await page.locator('form#ticket-update').scrollIntoViewIfNeeded();
      await ui.shot(page, `ticket-error-${v.name}`);
    }

    if (MAIL_TICKET) {
      await page.goto(`${BASE}/t/${MAIL_TICKET}`, { waitUntil: 'load' });
      r.mail = await mailFacts(page);
      r.mail.page = (await facts(page)).page;
      await ui.shot(page, `mail-${v.name}`, { fullPage: true });
    }
    r.foreign = foreign;
  }));
