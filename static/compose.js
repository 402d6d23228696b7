/*
 * compose.js -- the composer works without it; with it, the send button
 * and the security line follow the recipients as they are typed (GET
 * /t/N/security, the same decision the server makes when sending), and
 * the recipient fields suggest customers and agents (GET /t/N/complete).
 * The new outbound ticket's form (/new) uses it too, with the group.
 */
(function () {
    'use strict';

    function addresses(text) {
        var out = [], m, re = /<([^<>\s]+@[^<>\s]+)>|([^\s,<>"]+@[^\s,<>"]+)/g;

        while ((m = re.exec(text)) !== null) {
            out.push(m[1] || m[2]);
        }

        return out;
    }

    function init() {
        var form = document.getElementById('compose'),
            line = document.getElementById('security-line'),
            send, fields, timer, words, confirm, group;

        if (!form || !line) {
            return;
        }

        send = form.querySelector('button.send');
        fields = ['to', 'cc', 'bcc'].map(function (n) {
            return form.querySelector('input[name=' + n + ']');
        });
        group = form.querySelector('select[name=group]');
        /* the catalogue's words, from the page: %V an address, %ui a count */
        words = function (which, addr, n) {
            return (send.getAttribute('data-label-' + which) || '')
                .replace('%V', function () { return addr || ''; })
                .replace('%ui', function () { return String(n); });
        };
        confirm = form.querySelector('.confirm');

        function label() {
            var all = [];

            fields.forEach(function (f) {
                all = all.concat(addresses(f ? f.value : ''));
            });

            if (!all.length) {
                return words('none');
            }

            if (all.length === 1) {
                return words('one', all[0]);
            }

            return words('more', all[0], all.length - 1);
        }

        function refresh() {
            var q = fields.map(function (f, i) {
                return ['to', 'cc', 'bcc'][i] + '='
                       + encodeURIComponent(f ? f.value : '');
            }).join('&');

            /* a new ticket (compose_new.html): the group chosen signs */
            if (group) {
                q += '&group=' + encodeURIComponent(group.value);
            }

            send.textContent = label();

            /* an address still being typed: ask when it is one */
            if (fields.some(function (f) {
                return f && f.value.split(',').some(function (t) {
                    t = t.trim();
                    return t && !/@[^@\s>]+\.[^@\s>]+>?$/.test(t);
                });
            })) {
                return;
            }

            fetch(form.getAttribute('data-security') + '?' + q,
                  { credentials: 'same-origin' })
                .then(function (res) { return res.json(); })
                .then(function (j) {
                    if (!j || typeof j.crypt !== 'string') {
                        return;
                    }

                    line.textContent = j.text;
                    line.setAttribute('data-crypt', j.crypt);
                    line.className = 'security security-' + j.kind;

                    if (confirm) {
                        confirm.hidden = !j.confirm;
                    }
                })
                .catch(function () { /* the server decides on send */ });
        }

        function changed() {
            clearTimeout(timer);
            timer = setTimeout(refresh, 300);
        }

        fields.forEach(function (f) {
            if (f) {
                f.addEventListener('input', changed);
                complete(f, changed);
            }
        });

        if (group) {
            group.addEventListener('change', changed);
        }
    }

    /* suggestions for the address being typed: the text after the last
     * comma; a click puts "Name <address>" in its place */
    function complete(input, changed) {
        var url = input.getAttribute('data-complete'), list, timer, seq = 0;

        if (!url) {
            return;
        }

        list = document.createElement('ul');
        list.className = 'suggest';
        list.setAttribute('role', 'listbox');
        list.hidden = true;
        input.parentNode.insertBefore(list, input.nextSibling);

        function token() {
            var v = input.value, i = v.lastIndexOf(',');
            return { head: i < 0 ? '' : v.slice(0, i + 1) + ' ',
                     text: v.slice(i + 1).trim() };
        }

        function pick(a) {
            var t = token(),
                name = a.name && /[^A-Za-z0-9 \u0080-\uffff-]/.test(a.name)
                       ? '"' + a.name.replace(/["\\]/g, '\\$&') + '"' : a.name;

            input.value = t.head + (name ? name + ' <' + a.email + '>' : a.email)
                          + ', ';
            list.hidden = true;
            input.focus();
            changed();
        }

        input.addEventListener('input', function () {
            var t = token(), mine = ++seq;

            clearTimeout(timer);

            if (t.text.length < 2) {
                list.hidden = true;
                return;
            }

            timer = setTimeout(function () {
                fetch(url + '?q=' + encodeURIComponent(t.text),
                      { credentials: 'same-origin' })
                    .then(function (res) { return res.json(); })
                    .then(function (j) {
                        if (mine !== seq || !j || !j.addresses) {
                            return;
                        }

                        list.textContent = '';

                        j.addresses.forEach(function (a) {
                            var li = document.createElement('li');

                            li.setAttribute('role', 'option');
                            li.textContent = a.name ? a.name + ' <' + a.email + '>'
                                                    : a.email;
                            li.className = 'suggest-' + a.kind;
                            li.addEventListener('mousedown', function (e) {
                                e.preventDefault();
                                pick(a);
                            });
                            list.appendChild(li);
                        });

                        list.hidden = !j.addresses.length;
                    })
                    .catch(function () { list.hidden = true; });
            }, 200);
        });

        input.addEventListener('blur', function () { list.hidden = true; });
        input.addEventListener('keydown', function (e) {
            if (e.key === 'Escape') {
                list.hidden = true;
            }
        });
    }

    /* "@@an" in the body: agents whose login or name matches (the same
     * endpoint as the addresses); a pick writes "@@login " (helper notify) */
    function mentions(area, url) {
        var list, timer, seq = 0;

        if (!area || !url) {
            return;
        }

        list = document.createElement('ul');
        list.className = 'suggest suggest-mention';
        list.id = 'mention-suggest';
        list.setAttribute('role', 'listbox');
        list.hidden = true;
        area.parentNode.insertBefore(list, area.nextSibling);

        function typed() {
            var before = area.value.slice(0, area.selectionStart),
                m = /(^|[^A-Za-z0-9@])@@([a-z0-9._-]{2,64})$/.exec(before);

            return m ? { text: m[2], start: before.length - m[2].length } : null;
        }

        function pick(login) {
            var t = typed(), end = area.selectionStart;

            if (!t) {
                return;
            }
            area.value = area.value.slice(0, t.start) + login + ' '
                         + area.value.slice(end);
            area.selectionStart = area.selectionEnd = t.start + login.length + 1;
            list.hidden = true;
            area.focus();
        }

        area.addEventListener('input', function () {
            var t = typed(), mine = ++seq;

            clearTimeout(timer);
            if (!t) {
                list.hidden = true;
                return;
            }

            timer = setTimeout(function () {
                fetch(url + '?q=' + encodeURIComponent(t.text),
                      { credentials: 'same-origin' })
                    .then(function (res) { return res.json(); })
                    .then(function (j) {
                        var agents;

                        if (mine !== seq || !j || !j.addresses) {
                            return;
                        }
                        agents = j.addresses.filter(function (a) {
                            return a.kind === 'agent' && a.login;
                        });
                        list.textContent = '';
                        agents.forEach(function (a) {
                            var li = document.createElement('li');

                            li.setAttribute('role', 'option');
                            li.setAttribute('data-login', a.login);
                            li.textContent = '@@' + a.login
                                             + (a.name ? ' (' + a.name + ')' : '');
                            li.addEventListener('mousedown', function (e) {
                                e.preventDefault();
                                pick(a.login);
                            });
                            list.appendChild(li);
                        });
                        list.hidden = !agents.length;
                    })
                    .catch(function () { list.hidden = true; });
            }, 200);
        });

        area.addEventListener('blur', function () { list.hidden = true; });
        area.addEventListener('keydown', function (e) {
            if (e.key === 'Escape') {
                list.hidden = true;
            }
        });
    }

    function initMentions() {
        var to = document.getElementById('c-to');

        mentions(document.getElementById('c-body'),
                 to ? to.getAttribute('data-complete') : null);
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', initMentions);
    } else {
        initMentions();
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
}());
