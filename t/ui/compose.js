// compose.js -- drives Chromium for t/ui_compose.t: the composer on a
// ticket page at desktop and phone sizes: the default mode, the note
// mode's colours, the security line before and after typing a
// recipient (the page's script asks /t/N/security), the button text;
// screenshots of both modes.
//
//   BASE=... LOGIN=... PASSWORD=... TICKET=N KEYED=addr OUT=dir node compose.js
'use strict';
const ui = require('./lib');

const { env } = ui;
const BASE = env('BASE'), TICKET = env('TICKET');

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

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports({ height: 900 }),
  { errors: { console: 'plain' } }, async ({ page, context, v, r }) => {
    await ui.login(page);

    await page.goto(`${BASE}/t/${TICKET}#composer`, { waitUntil: 'load' });
    r.reply = await facts(page);
    await ui.shot(page, `compose-page-${v.name}`, { fullPage: true });
    const composer = await page.$('#composer');
    await ui.shot(composer, `compose-reply-${v.name}`);

    // a recipient with a key: the script updates line and button
    await ui.keyedRecipient(page, env('KEYED'));
    r.keyed = await facts(page);
    await ui.shot(composer, `compose-encrypted-${v.name}`);

    // suggestions while typing an address: a click puts it in
    const { texts, first } = await ui.suggestions(page, 'cc', 'Ki');
    r.suggested = texts;
    if (first) {
      await ui.shot(composer, `compose-suggest-${v.name}`);
      await first.dispatchEvent('mousedown');
    }
    r.ccAfter = await page.inputValue('form#compose input[name=cc]');
    await page.fill('form#compose input[name=cc]', '');

    await page.selectOption('form#compose select[name=state]', '4');
    r.reminder = await facts(page);

    await page.click('form#compose label.mode-note');
    r.note = await facts(page);
    await ui.shot(composer, `compose-note-${v.name}`);

    // the browser posts the form (multipart, with a file): a note
    await page.fill('form#compose textarea[name=body]', `Notiz aus ${v.name}`);
    await page.selectOption('form#compose select[name=state]', '2');
    await page.setInputFiles('form#compose input[type=file]', {
      name: 'Akte.txt', mimeType: 'text/plain', buffer: Buffer.from('Aktenzeichen 1\n'),
    });
    await Promise.all([page.waitForNavigation(), page.click('form#compose button.save-note')]);
    r.saved = await ui.lastArticle(page);

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
      if (box) await ui.shot(box, `compose-conflict-${v.name}`);
      // the 409 itself is expected here
      r.errors = r.errors.filter((e) => !/409/.test(e));
    }
  }));
