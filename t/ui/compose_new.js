// compose_new.js -- drives Chromium for t/ui_compose_new.t: the new
// outbound ticket ("E-Mail senden", /new) at desktop and phone sizes:
// the link in the head, the form, the security line following a typed
// recipient and the group (GET /new/security), address suggestions
// (GET /new/complete), a refused send (422, the form as typed), then a
// real send with a file; screenshots.
//
//   BASE=... LOGIN=... PASSWORD=... KEYED=addr CUSTOMER=text OUT=dir node compose_new.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

async function facts(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const vis = (el) => !!el && el.offsetParent !== null;
    const text = (s) => (q(s) ? q(s).textContent.trim() : null);
    return {
      path: location.pathname,
      groups: Array.from(document.querySelectorAll('form#compose select[name=group] option')).map((o) => o.value),
      sendText: text('form#compose button.send'),
      security: text('#security-line'),
      crypt: q('#security-line') ? q('#security-line').getAttribute('data-crypt') : null,
      pendingVisible: vis(q('form#compose input[name=pending_until]')),
      toVisible: vis(q('form#compose input[name=to]')),
      subjectError: text('#c-subject-error'),
      to: q('form#compose input[name=to]') ? q('form#compose input[name=to]').value : null,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

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
      page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${r.url()}`); });
      page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
      const r = { errors };

      await page.goto(`${BASE}/login`);
      await page.fill('form#login input[name=login]', env('LOGIN'));
      await page.fill('form#login input[name=password]', env('PASSWORD'));
      await Promise.all([page.waitForNavigation(),
        page.press('form#login input[name=password]', 'Enter')]);

      // the link in the head leads there
      r.linkVisible = await page.evaluate(() => {
        const a = document.querySelector('a#nav-new');
        return !!a && a.offsetParent !== null;
      });
      await Promise.all([page.waitForNavigation(), page.click('a#nav-new')]);
      r.fresh = await facts(page);
      const box = await page.$('#compose-new');
      await box.screenshot({ path: `${OUT}/compose-new-${v.name}.png` });

      // a recipient with a key: line and button follow
      await page.fill('form#compose input[name=to]', env('KEYED'));
      await page.waitForFunction(() => {
        const l = document.querySelector('#security-line');
        return l && (l.getAttribute('data-crypt') || '').startsWith('encrypt');
      }, null, { timeout: 5000 }).catch(() => {});
      r.keyed = await facts(page);

      // suggestions: an existing customer
      await page.fill('form#compose input[name=to]', 'Bert');
      await page.waitForSelector('form#compose ul.suggest li', { timeout: 5000 }).catch(() => {});
      r.suggested = await page.evaluate(() => Array.from(document.querySelectorAll('form#compose ul.suggest li'))
        .filter((li) => li.offsetParent !== null).map((li) => li.textContent));
      const first = await page.$('form#compose ul.suggest li');
      if (first) await first.dispatchEvent('mousedown');
      r.toAfter = await page.inputValue('form#compose input[name=to]');

      await page.selectOption('form#compose select[name=state]', '4');
      r.reminder = await facts(page);
      await page.selectOption('form#compose select[name=state]', '3');

      // no subject: refused, the form comes back as typed (422)
      await page.fill('form#compose input[name=to]', env('CUSTOMER'));
      await page.fill('form#compose input[name=customer_name]', 'Nora Neu');
      await page.fill('form#compose textarea[name=body]', `Hallo Nora,\nhier ist unsere Antwort (${v.name}).`);
      const [bad] = await Promise.all([page.waitForNavigation(), page.click('form#compose button.send')]);
      r.refused = await facts(page);
      r.refused.status = bad ? bad.status() : null;
      const ebox = await page.$('#compose-new');
      if (ebox) await ebox.screenshot({ path: `${OUT}/compose-new-error-${v.name}.png` });
      r.errors = r.errors.filter((e) => !/HTTP 422|status of 422/.test(e));

      // now with a subject and a file: sent, on to the new ticket
      await page.fill('form#compose input[name=subject]', `Unsere Antwort (${v.name})`);
      await page.setInputFiles('form#compose input[type=file]', {
        name: 'Merkblatt.txt', mimeType: 'text/plain', buffer: Buffer.from('Merkblatt\n'),
      });
      await Promise.all([page.waitForNavigation(), page.click('form#compose button.send')]);
      r.sent = await page.evaluate(() => {
        const arts = document.querySelectorAll('article.article');
        const last = arts[arts.length - 1];
        return {
          url: location.pathname + location.hash,
          kind: last ? last.getAttribute('data-kind') : null,
          files: last ? Array.from(last.querySelectorAll('.files li.file a.download')).map((x) => x.textContent.trim()) : [],
          scrollWidth: document.documentElement.scrollWidth,
        };
      });
      await page.screenshot({ path: `${OUT}/compose-new-sent-${v.name}.png`, fullPage: true });

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
