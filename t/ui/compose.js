// compose.js -- drives Chromium for t/ui_compose.t: the composer on a
// ticket page at desktop and phone sizes: the default mode, the note
// mode's colours, the security line before and after typing a
// recipient (the page's script asks /t/N/security), the button text;
// screenshots of both modes.
//
//   BASE=... LOGIN=... PASSWORD=... TICKET=N KEYED=addr OUT=dir node compose.js
'use strict';
const { chromium } = require('playwright-core');

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const BASE = env('BASE'), OUT = env('OUT'), TICKET = env('TICKET');

const viewports = [
  { name: 'desktop', viewport: { width: 1280, height: 900 } },
  { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
    hasTouch: true, deviceScaleFactor: 2 },
];

async function facts(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const form = q('form#compose');
    const vis = (el) => !!el && el.offsetParent !== null;
    const checked = q('form#compose input[name=type]:checked');
    return {
      mode: checked ? checked.value : null,
      background: form ? getComputedStyle(form).backgroundColor : null,
      noteLabel: vis(q('form#compose .note-label')),
      sendVisible: vis(q('form#compose button.send')),
      saveVisible: vis(q('form#compose button.save-note')),
      toVisible: vis(q('form#compose input[name=to]')),
      sendText: q('form#compose button.send') ? q('form#compose button.send').textContent.trim() : null,
      security: q('#security-line') ? q('#security-line').textContent.trim() : null,
      crypt: q('#security-line') ? q('#security-line').getAttribute('data-crypt') : null,
      pendingVisible: vis(q('form#compose input[name=pending_until]')),
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

      await page.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
      r.reply = await facts(page);
      await page.screenshot({ path: `${OUT}/compose-page-${v.name}.png`, fullPage: true });
      const composer = await page.$('#composer');
      await composer.screenshot({ path: `${OUT}/compose-reply-${v.name}.png` });

      // a recipient with a key: the script updates line and button
      await page.fill('form#compose input[name=to]', env('KEYED'));
      await page.waitForFunction(() => {
        const l = document.querySelector('#security-line');
        return l && (l.getAttribute('data-crypt') || '').startsWith('encrypt');
      }, null, { timeout: 5000 }).catch(() => {});
      r.keyed = await facts(page);
      await composer.screenshot({ path: `${OUT}/compose-encrypted-${v.name}.png` });

      // suggestions while typing an address: a click puts it in
      await page.fill('form#compose input[name=cc]', 'Ki');
      await page.waitForSelector('form#compose ul.suggest li', { timeout: 5000 }).catch(() => {});
      r.suggested = await page.evaluate(() => Array.from(document.querySelectorAll('form#compose ul.suggest li'))
        .filter((li) => li.offsetParent !== null).map((li) => li.textContent));
      const first = await page.$('form#compose ul.suggest li');
      if (first) {
        await composer.screenshot({ path: `${OUT}/compose-suggest-${v.name}.png` });
        await first.dispatchEvent('mousedown');
      }
      r.ccAfter = await page.inputValue('form#compose input[name=cc]');
      await page.fill('form#compose input[name=cc]', '');

      await page.selectOption('form#compose select[name=state]', '4');
      r.reminder = await facts(page);

      await page.click('form#compose label.mode-note');
      r.note = await facts(page);
      await composer.screenshot({ path: `${OUT}/compose-note-${v.name}.png` });

      // the browser posts the form (multipart, with a file): a note
      await page.fill('form#compose textarea[name=body]', `Notiz aus ${v.name}`);
      await page.selectOption('form#compose select[name=state]', '2');
      await page.setInputFiles('form#compose input[type=file]', {
        name: 'Akte.txt', mimeType: 'text/plain', buffer: Buffer.from('Aktenzeichen 1\n'),
      });
      await Promise.all([page.waitForNavigation(), page.click('form#compose button.save-note')]);
      r.saved = await page.evaluate(() => {
        const arts = document.querySelectorAll('article.article');
        const last = arts[arts.length - 1];
        return {
          url: location.pathname + location.hash,
          kind: last ? last.getAttribute('data-kind') : null,
          files: last ? Array.from(last.querySelectorAll('.files li.file a.download')).map((x) => x.textContent.trim()) : [],
          body: last && last.querySelector('.body') ? last.querySelector('.body').textContent.trim() : null,
        };
      });

      // two agents: this form was opened before a note was saved in
      // another tab -- sending stops and says what changed
      if (v.name === 'desktop') {
        await page.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
        await page.fill('form#compose textarea[name=body]', 'Meine Antwort, geschrieben bevor die Notiz kam.');
        const other = await context.newPage();
        await other.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
        await other.click('form#compose label.mode-note');
        await other.fill('form#compose textarea[name=body]', 'Achtung: Frist ist schon morgen!');
        await other.selectOption('form#compose select[name=state]', '2');
        await Promise.all([other.waitForNavigation(), other.click('form#compose button.save-note')]);
        await other.close();
        await page.selectOption('form#compose select[name=state]', '3');
        const [resp] = await Promise.all([page.waitForNavigation(), page.click('form#compose button.send')]);
        r.conflict = {
          status: resp ? resp.status() : null,
          changes: await page.evaluate(() => Array.from(document.querySelectorAll('#compose-conflict li')).map((li) => li.textContent)),
          body: await page.inputValue('form#compose textarea[name=body]'),
        };
        const box = await page.$('#composer');
        if (box) await box.screenshot({ path: `${OUT}/compose-conflict-${v.name}.png` });
        // the 409 itself is expected here
        r.errors = r.errors.filter((e) => !/409/.test(e));
      }

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
