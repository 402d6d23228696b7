// compose_new.js -- drives Chromium for t/ui_compose_new.t: the new
// outbound ticket ("E-Mail senden", /new) at desktop and phone sizes:
// the link in the head, the form, the security line following a typed
// recipient and the group (GET /new/security), address suggestions
// (GET /new/complete), a refused send (422, the form as typed), then a
// real send with a file; screenshots.
//
//   BASE=... LOGIN=... PASSWORD=... KEYED=addr CUSTOMER=text OUT=dir node compose_new.js
'use strict';
const ui = require('./lib');

const { env } = ui;

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

ui.run((browser, result) => ui.eachView(browser, result, ui.viewports({ height: 900 }),
  { errors: { console: 'plain' } }, async ({ page, v, r }) => {
    await ui.login(page);

    // the link in the head leads there
    r.linkVisible = await page.evaluate(() => {
      const a = document.querySelector('a#nav-new');
      return !!a && a.offsetParent !== null;
    });
    await Promise.all([page.waitForNavigation(), page.click('a#nav-new')]);
    r.fresh = await facts(page);
    const box = await page.$('#compose-new');
    await ui.shot(box, `compose-new-${v.name}`);

    // a recipient with a key: line and button follow
    await ui.keyedRecipient(page, env('KEYED'));
    r.keyed = await facts(page);

    // suggestions: an existing customer
    const { texts, first } = await ui.suggestions(page, 'to', 'Bert');
    r.suggested = texts;
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
    if (ebox) await ui.shot(ebox, `compose-new-error-${v.name}`);
    r.errors = r.errors.filter((e) => !/HTTP 422|status of 422/.test(e));

    // now with a subject and a file: sent, on to the new ticket
    await page.fill('form#compose input[name=subject]', `Unsere Antwort (${v.name})`);
    await page.setInputFiles('form#compose input[type=file]', {
      name: 'Merkblatt.txt', mimeType: 'text/plain', buffer: Buffer.from('Merkblatt\n'),
    });
    await Promise.all([page.waitForNavigation(), page.click('form#compose button.send')]);
    r.sent = await ui.lastArticle(page);
    await ui.shot(page, `compose-new-sent-${v.name}`, { fullPage: true });
  }));
