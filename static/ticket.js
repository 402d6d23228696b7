/*
 * ticket.js -- small conveniences on top of pages that work without it:
 *  - filter and sort selects of an overview apply when changed;
 *  - the reminder date shows only for "waiting with reminder" (state 4);
 *  - on a phone the strip of overviews shows the current one;
 *  - "g" then "o" goes to the overview, "g" then "p" to the profile;
 *  - "import key" of an attached PGP key posts the import right away
 *    (without the script the link leads to a confirmation form);
 *  - a key file chosen on the key page fills its textarea;
 *  - the tag input's suggestions (a <datalist>, which works alone for
 *    the first tag) follow the comma list: after "miete, k" the browser
 *    offers "miete, kaution".
 * No inline code anywhere (the CSP forbids it), nothing loaded from
 * elsewhere.
 */
(function () {
    'use strict';

    var root = document.documentElement;

    root.classList.add('js');

    function ready(fn) {
        if (document.readyState === 'loading') {
            document.addEventListener('DOMContentLoaded', fn);
        } else {
            fn();
        }
    }

    /* overview: a changed select submits its form (the Apply button is
     * hidden by the stylesheet when this script runs) */
    function autosubmit() {
        var selects = document.querySelectorAll('select[data-autosubmit]');

        Array.prototype.forEach.call(selects, function (select) {
            select.addEventListener('change', function () {
                if (select.form) {
                    select.form.submit();
                }
            });
        });

        /* a typed field (tag, customer, dates) waits for Enter or the
         * Apply button, which shows once one was edited: a date picker
         * on a phone has no Enter */
        Array.prototype.forEach.call(
            document.querySelectorAll('form.filters input'),
            function (input) {
                input.addEventListener('input', function () {
                    input.form.classList.add('edited');
                });
            });
    }

    /* ticket: the date field belongs to state 4 only */
    function reminder() {
        var form = document.getElementById('ticket-update'),
            state, parts;

        if (!form) {
            return;
        }

        state = form.querySelector('select[name=state]');
        parts = form.querySelectorAll('.pending');

        if (!state || !parts.length) {
            return;
        }

        function update() {
            var hide = state.value !== '4';

            Array.prototype.forEach.call(parts, function (el) {
                el.hidden = hide;
            });
        }

        state.addEventListener('change', update);
        update();
    }

    /* ticket: moving and assigning is one save -- the owner choice
     * offers the agents of the group the ticket is moved to (each
     * option's data-groups); an owner who may not work there falls back
     * to "nobody".  Without the script all agents are offered and the
     * server says who may not. */
    function owners() {
        var form = document.getElementById('ticket-update'),
            group, owner;

        if (!form) {
            return;
        }

        group = form.querySelector('select[name=group]');
        owner = form.querySelector('select[name=owner]');

        if (!group || !owner) {
            return;
        }

        function update(first) {
            var want = group.value + ' ';

            Array.prototype.forEach.call(owner.options, function (o) {
                var groups = o.getAttribute('data-groups');

                if (groups === null || o.value === '') {
                    return;
                }

                o.hidden = o.disabled = (' ' + groups).indexOf(' ' + want) < 0;

                if (o.disabled && o.selected) {
                    if (first) {
                        /* the stored owner stays what the page shows */
                        o.hidden = o.disabled = false;
                    } else {
                        owner.value = '';
                    }
                }
            });
        }

        group.addEventListener('change', function () { update(false); });
        update(true);
    }

    /* phone: the overview strip scrolls sideways; bring the current one
     * into view without moving the page */
    function strip() {
        var nav = document.getElementById('overviews'),
            cur = nav && nav.querySelector('a.current');

        if (!cur || nav.scrollWidth <= nav.clientWidth) {
            return;
        }

        nav.scrollLeft = cur.offsetLeft - (nav.clientWidth - cur.offsetWidth) / 2;
    }

    /* keyboard: "g o" overview, "g p" profile -- not while typing */
    function shortcuts() {
        var base = document.querySelector('header.top a.brand'),
            pending = false,
            timer;

        if (!base || !document.getElementById('logout')) {
            return;
        }

        document.addEventListener('keydown', function (e) {
            var t = e.target, tag = t && t.tagName;

            if (e.ctrlKey || e.metaKey || e.altKey
                || tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA'
                || (t && t.isContentEditable))
            {
                return;
            }

            if (pending) {
                pending = false;
                clearTimeout(timer);

                if (e.key === 'o') {
                    location.href = base.getAttribute('href');
                } else if (e.key === 'p') {
                    location.href = base.getAttribute('href') + 'profile';
                }

                return;
            }

            if (e.key === 'g') {
                pending = true;
                timer = setTimeout(function () { pending = false; }, 1500);
            }
        });
    }

    /* ticket: a.import-key ".../admin/keys?import=T/A/K" -> POST
     * ".../admin/keys/import-att" with the page's CSRF token (the thread
     * is cached for every user, so the token cannot be in it) */
    function importKey() {
        var meta = document.querySelector('meta[name=csrf]');

        if (!meta) {
            return;
        }

        Array.prototype.forEach.call(document.querySelectorAll('a.import-key'),
            function (a) {
                a.addEventListener('click', function (e) {
                    var m = /^(.*)\?import=(\d+)\/(\d+)\/(\d+)$/.exec(a.getAttribute('href')),
                        form, fields;

                    if (!m) {
                        return;
                    }

                    e.preventDefault();
                    form = document.createElement('form');
                    form.method = 'post';
                    form.action = m[1] + '/import-att';
                    fields = { csrf: meta.getAttribute('content'), ticket: m[2],
                               article: m[3], att: m[4] };
                    Object.keys(fields).forEach(function (name) {
                        var input = document.createElement('input');

                        input.type = 'hidden';
                        input.name = name;
                        input.value = fields[name];
                        form.appendChild(input);
                    });
                    document.body.appendChild(form);
                    form.submit();
                });
            });
    }

    /* key page: a chosen key file is read into the textarea (armoured
     * keys are text; the form stays urlencoded) */
    function keyFile() {
        var input = document.getElementById('key-file'),
            text = document.getElementById('key-text');

        if (!input || !text || !window.FileReader) {
            return;
        }

        input.addEventListener('change', function () {
            var reader = new FileReader();

            if (!input.files || !input.files[0]) {
                return;
            }
            reader.onload = function () { text.value = reader.result; };
            reader.readAsText(input.files[0]);
        });
    }

    /* ticket page: the datalist's values are whole input values, so for
     * every tag after the first they are offered with what came before */
    function tagList() {
        var input = document.getElementById('f-tags'),
            list = document.getElementById('tag-names'),
            known;

        if (!input || !list) {
            return;
        }

        known = Array.prototype.map.call(list.options, function (o) {
            return o.value;
        });

        input.addEventListener('input', function () {
            var cut = input.value.lastIndexOf(','),
                head = cut < 0 ? '' : input.value.slice(0, cut + 1) + ' ',
                typed = input.value.slice(cut + 1).trim().toLowerCase(),
                taken = input.value.toLowerCase().split(',').map(function (t) {
                    return t.trim();
                });

            while (list.firstChild) {
                list.removeChild(list.firstChild);
            }

            known.forEach(function (tag) {
                var o;

                if (tag.indexOf(typed) !== 0 || taken.indexOf(tag) >= 0) {
                    return;
                }
                o = document.createElement('option');
                o.value = head + tag;
                list.appendChild(o);
            });
        });
    }

    ready(function () {
        tagList();
        keyFile();
        autosubmit();
        strip();
        reminder();
        owners();
        shortcuts();
        importKey();
    });
}());
