/*
 * textmod.js -- "::keyword" in a textarea with data-textmods="URL"
 * suggests text modules (GET URL&q=PREFIX, the user's own and the shared
 * ones, placeholders filled by the server for the ticket in URL); arrow
 * keys / Enter / Tab or a click put the chosen text in place of the
 * "::keyword"; Escape closes.  Without this file the server expands the
 * keyword when the text is sent.  DOM hooks: ul.textmod-menu li[data-
 * keyword], li[aria-selected=true].
 */
(function () {
    'use strict';

    var TOKEN = /(^|\s)::([A-Za-z0-9_-]*)$/;

    function attach(area) {
        var url = area.getAttribute('data-textmods'),
            menu = document.createElement('ul'),
            items = [], current = -1, token = null, seq = 0, timer;

        menu.className = 'textmod-menu';
        menu.setAttribute('role', 'listbox');
        menu.hidden = true;
        area.parentNode.insertBefore(menu, area.nextSibling);
        area.setAttribute('aria-autocomplete', 'list');

        function close() {
            menu.hidden = true;
            items = [];
            current = -1;
            token = null;
        }

        function mark(i) {
            current = i;
            Array.prototype.forEach.call(menu.children, function (li, k) {
                li.setAttribute('aria-selected', k === i ? 'true' : 'false');
            });
        }

        function choose(i) {
            var m = items[i], end, start, v;

            if (!m || !token) {
                return;
            }
            v = area.value;
            end = token.end;
            start = token.start;
            area.value = v.slice(0, start) + m.body + v.slice(end);
            area.selectionStart = area.selectionEnd = start + m.body.length;
            close();
            area.focus();
            area.dispatchEvent(new Event('input', { bubbles: true }));
        }

        function show(list) {
            menu.textContent = '';
            items = list;
            if (!list.length) {
                close();
                return;
            }
            list.forEach(function (m, i) {
                var li = document.createElement('li'), kw = document.createElement('b');

                li.setAttribute('role', 'option');
                li.setAttribute('data-keyword', m.keyword);
                kw.textContent = '::' + m.keyword;
                li.appendChild(kw);
                li.appendChild(document.createTextNode(' ' + m.name));
                li.addEventListener('mousedown', function (ev) {
                    ev.preventDefault();
                    choose(i);
                });
                menu.appendChild(li);
            });
            menu.hidden = false;
            mark(0);
        }

        function lookup() {
            var before = area.value.slice(0, area.selectionStart),
                m = TOKEN.exec(before), mine;

            if (!m) {
                close();
                return;
            }
            token = { start: before.length - m[2].length - 2,
                      end: area.selectionStart };
            mine = ++seq;
            fetch(url + (url.indexOf('?') < 0 ? '?' : '&') + 'q='
                  + encodeURIComponent(m[2]),
                  { credentials: 'same-origin',
                    headers: { Accept: 'application/json' } })
                .then(function (res) { return res.ok ? res.json() : null; })
                .then(function (data) {
                    if (mine === seq && data && token) {
                        show(data.text_modules || []);
                    }
                })
                .catch(close);
        }

        area.addEventListener('input', function () {
            clearTimeout(timer);
            timer = setTimeout(lookup, 80);
        });

        area.addEventListener('keydown', function (ev) {
            if (menu.hidden) {
                return;
            }
            if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                ev.preventDefault();
                mark((current + (ev.key === 'ArrowDown' ? 1 : items.length - 1))
                     % items.length);
            } else if (ev.key === 'Enter' || ev.key === 'Tab') {
                ev.preventDefault();
                choose(current);
            } else if (ev.key === 'Escape') {
                close();
            }
        });

        area.addEventListener('blur', function () {
            setTimeout(close, 150);
        });
    }

    function init() {
        Array.prototype.forEach.call(
            document.querySelectorAll('textarea[data-textmods]'), attach);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
}());
