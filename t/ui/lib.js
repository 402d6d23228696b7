// lib.js -- what every browser script in t/ui/ does the same way: start
// Debian's Chromium, open a context per screen size (1280 px desktop,
// 390 px phone), collect page errors and failed loads, sign in, save
// screenshots into OUT, and print one JSON object as the last line of
// stdout for the t/*.t wrapper (TKUI::run_script decodes it).  The
// scripts keep only their own steps and their page facts.
'use strict';
const { chromium } = require('playwright-core');

// a variable the wrapper must set; missing is a fatal setup error
function env(k) {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
}

// The two screens every page must work on; desktop height and the phone's
// pixel density differ between scripts only for the screenshots' sake.
function viewports({ height = 800, scale = 2 } = {}) {
  return [
    { name: 'desktop', viewport: { width: 1280, height } },
    { name: 'mobile', viewport: { width: 390, height: 844 }, isMobile: true,
      hasTouch: true, deviceScaleFactor: scale },
  ];
}

// CSP violations as the page sees them (an init script comes from the
// browser's side, not from the page, so the CSP does not apply to it)
function recordCsp() {
  window.__tkCsp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__tkCsp.push(`${e.violatedDirective} ${e.blockedURI}${e.sample ? ` ${e.sample}` : ''}`);
  });
}

// A context for one viewport; opts.locale (the collective's browsers are
// German), opts.csp: record violations in window.__tkCsp.
async function newContext(browser, v, opts = {}) {
  const o = {
    viewport: v.viewport, isMobile: !!v.isMobile, hasTouch: !!v.hasTouch,
    deviceScaleFactor: v.deviceScaleFactor || 1,
  };
  if (opts.locale) o.locale = opts.locale;
  const context = await browser.newContext(o);
  if (opts.csp) await context.addInitScript(recordCsp);
  return context;
}

// The page's errors the wrapper asserts to be empty: script errors,
// optionally console errors (console: 'plain', or 'located' with the
// source and without the browser's own /favicon.ico request), and loads
// answered >= 400 (http: true, or a function naming expected answers).
// ignoreConsole: a function of "text where" for expected console errors.
function watch(page, { console: mode = false, http = true, ignoreConsole = null } = {}) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  if (mode === 'plain') {
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  } else if (mode === 'located') {
    page.on('console', (m) => {
      const where = (m.location() && m.location().url) || '';
      if (m.type() === 'error' && !where.endsWith('/favicon.ico')
          && !(ignoreConsole && ignoreConsole(`${m.text()} ${where}`))) {
        errors.push(`console: ${m.text()} ${where}`);
      }
    });
  }
  if (http) {
    const expected = typeof http === 'function' ? http : () => false;
    page.on('response', (r) => {
      if (r.status() >= 400 && !expected(r)) errors.push(`HTTP ${r.status()} ${r.url()}`);
    });
  }
  return errors;
}

// The sign-in form on the page at hand (the caller may look at it first).
async function signIn(page, login = env('LOGIN'), password = env('PASSWORD')) {
  await page.fill('form#login input[name=login]', login);
  await page.fill('form#login input[name=password]', password);
  await Promise.all([
    page.waitForNavigation(),
    page.press('form#login input[name=password]', 'Enter'),
  ]);
}

async function login(page, user, password) {
  await page.goto(`${env('BASE')}/login`);
  await signIn(page, user, password);
}

// OUT/NAME.png of a page, element or locator (the wrappers check it and
// make screenshots copies them to docs/img/)
function shot(target, name, opts = {}) {
  return target.screenshot({ path: `${env('OUT')}/${name}.png`, ...opts });
}

// the document's width: more than the viewport means sideways scrolling
function scrollWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

// The composer's address suggestions for TEXT typed into the field NAME:
// the visible ones' texts and the first one (to pick with a mousedown).
async function suggestions(page, name, text) {
  await page.fill(`form#compose input[name=${name}]`, text);
  await page.waitForSelector('form#compose ul.suggest li', { timeout: 5000 }).catch(() => {});
  const texts = await page.evaluate(() => Array.from(document.querySelectorAll('form#compose ul.suggest li'))
    .filter((li) => li.offsetParent !== null).map((li) => li.textContent));
  return { texts, first: await page.$('form#compose ul.suggest li') };
}

// A recipient with a PGP key typed into the composer's To: compose.js
// asks the security URL and the line turns to "encrypt" (or the facts
// read afterwards say it did not).
async function keyedRecipient(page, address) {
  await page.fill('form#compose input[name=to]', address);
  await page.waitForFunction(() => {
    const l = document.querySelector('#security-line');
    return l && (l.getAttribute('data-crypt') || '').startsWith('encrypt');
  }, null, { timeout: 5000 }).catch(() => {});
}

// The ticket page after the composer was sent: where it landed and the
// newest article's kind, files and text.
function lastArticle(page) {
  return page.evaluate(() => {
    const arts = document.querySelectorAll('article.article');
    const last = arts[arts.length - 1];
    return {
      url: location.pathname + location.hash,
      kind: last ? last.getAttribute('data-kind') : null,
      files: last ? Array.from(last.querySelectorAll('.files li.file a.download')).map((x) => x.textContent.trim()) : [],
      body: last && last.querySelector('.body') ? last.querySelector('.body').textContent.trim() : null,
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

// One fresh context and page per viewport, its facts in result.views[NAME]
// (r.errors filled by watch()); fn({ page, context, v, r, i }).
async function eachView(browser, result, views, opts, fn) {
  result.views = {};
  for (const [i, v] of views.entries()) {
    const context = await newContext(browser, v, opts);
    const page = await context.newPage();
    const r = { errors: watch(page, opts.errors) };
    await fn({ page, context, v, r, i });
    result.views[v.name] = r;
    await context.close();
  }
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// Launch, main(browser, result), close, print result.  A failure still
// prints what was seen so far, with "fatal", and exits 1.
function run(main) {
  (async () => {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
    });
    const result = { browser: browser.version() };
    try {
      await main(browser, result);
    } catch (e) {
      result.fatal = String(e && e.stack || e);
    } finally {
      await browser.close();
    }
    print(result);
    if (result.fatal) process.exitCode = 1;
  })().catch((e) => {
    print({ fatal: String(e && e.stack || e) });
    process.exitCode = 1;
  });
}

module.exports = {
  env, viewports, recordCsp, newContext, watch, signIn, login, shot, scrollWidth,
  suggestions, keyedRecipient, lastArticle, eachView, run,
};
