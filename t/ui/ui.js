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
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');
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

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

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

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  const result = { browser: browser.version(), views: {} };
  try {
    for (const v of viewports) {
      // the collective's browsers are German (Accept-Language: de-DE)
      const context = await browser.newContext({
        viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
        deviceScaleFactor: v.deviceScaleFactor || 1, locale: 'de-DE',
      });
      // CSP violations as the page sees them (an init script comes from
      // the browser's side, not from the page, so the CSP does not apply)
      await context.addInitScript(() => {
        window.__tkCsp = [];
        document.addEventListener('securitypolicyviolation', (e) => {
          window.__tkCsp.push(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      const page = await context.newPage();
      const errors = [];
      const foreign = [];
      page.on('request', (q) => { if (!q.url().startsWith(BASE) && !q.url().startsWith('data:')) foreign.push(q.url()); });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        const where = (m.location() && m.location().url) || '';
        // a browser asks for /favicon.ico on its own; not the page's fault
        // and the refused move below answers 422 on purpose
        if (m.type() === 'error' && !where.endsWith('/favicon.ico')
            && !/status of 422 .*\/update$/.test(`${m.text()} ${where}`)) {
          errors.push(`console: ${m.text()} ${where}`);
        }
      });
      // 422: the refused move below, on purpose (checked there)
      page.on('response', (r) => {
        if (r.status() >= 400 && !(r.status() === 422 && r.url().endsWith('/update'))) {
          errors.push(`HTTP ${r.status()} ${r.url()}`);
        }
      });
      const r = { errors };

      // a browser set to English gets English, one set to German (the
      // context below) German
      const en = await browser.newContext({ viewport: v.viewport, locale: 'en-US' });
      const enPage = await en.newPage();
      await enPage.goto(`${BASE}/login`);
      r.loginEn = await facts(enPage);
      await en.close();

      await page.goto(`${BASE}/login`);
      r.login = await facts(page);
      await page.screenshot({ path: `${OUT}/login-${v.name}.png`, fullPage: true });

      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([
        page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter'),
      ]);
      r.overview = await facts(page);
      await page.screenshot({ path: `${OUT}/overview-${v.name}.png`, fullPage: true });

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
      await page.screenshot({ path: `${OUT}/ticket-${v.name}.png`, fullPage: true });

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
        await page.screenshot({ path: `${OUT}/ticket-error-${v.name}.png` });
      }

      if (MAIL_TICKET) {
        await page.goto(`${BASE}/t/${MAIL_TICKET}`, { waitUntil: 'load' });
        r.mail = await mailFacts(page);
        r.mail.page = (await facts(page)).page;
        await page.screenshot({ path: `${OUT}/mail-${v.name}.png`, fullPage: true });
      }
      r.foreign = foreign;

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
