/*
 * compose.js -- the composer works without it; with it, the send button
 * and the security line follow the recipients as they are typed (GET
 * /t/N/security, the same decision the server makes when sending).
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
            send, fields, timer, de, confirm;

        if (!form || !line) {
            return;
        }

        send = form.querySelector('button.send');
        fields = ['to', 'cc', 'bcc'].map(function (n) {
            return form.querySelector('input[name=' + n + ']');
        });
        de = form.getAttribute('data-lang') === 'de';
        confirm = form.querySelector('.confirm');

        function label() {
            var all = [];

            fields.forEach(function (f) {
                all = all.concat(addresses(f ? f.value : ''));
            });

            if (!all.length) {
                return de ? 'E-Mail senden' : 'Send email';
            }

            if (all.length === 1) {
                return de ? 'E-Mail an ' + all[0] + ' senden'
                          : 'Send email to ' + all[0];
            }

            return de ? 'E-Mail an ' + all[0] + ' und ' + (all.length - 1)
                        + ' weitere senden'
                      : 'Send email to ' + all[0] + ' and '
                        + (all.length - 1) + ' more';
        }

        function refresh() {
            var q = fields.map(function (f, i) {
                return ['to', 'cc', 'bcc'][i] + '='
                       + encodeURIComponent(f ? f.value : '');
            }).join('&');

            send.textContent = label();

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

        fields.forEach(function (f) {
            if (f) {
                f.addEventListener('input', function () {
                    clearTimeout(timer);
                    timer = setTimeout(refresh, 300);
                });
            }
        });
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
}());
