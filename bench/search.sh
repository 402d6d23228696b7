# search.sh -- the HTTP search rows of "make bench", sourced by
# bench/run.sh inside its per-scale function (uses its $sc, $BASE, $CK,
# $RES, $T and its helpers fetch, wrk_row, na, put, say):
#   search_http          /search?q=<a person's name>   (the target's row)
#   search_http_rare     /search?q=js+<N>              (a file number)
#   search_http_frequent /search?q=<the most frequent word> (in every mail)
# The terms are the FT.SEARCH rows' (bench.pl words, from ticket 5001).
# A file number is searched as "js N": a bare "N" is a ticket number and
# redirects to ticket N.  One connection (wrk -t1 -c1), like the
# FT.SEARCH rows' one client: the latency of one search as an agent sees
# it.  (At 32 connections p50 is the queue in front of Redis: a search is
# 4-8 round trips, ~1000 searches/s on this machine.)

search_http_row() {
    local key=$1 label=$2 raw=$3 q code
    if [ -z "$raw" ]; then
        na "$sc.$key" "no search term (no full-text index)"
        return
    fi
    q=$(printf '%s' "$raw" | perl -pe 's/([^A-Za-z0-9_.~-])/sprintf "%%%02X", ord $1/ge')
    code=$(fetch "$BASE/search?q=$q" "$T/s.html" "$CK")
    if [ "$code" = 200 ] && ! grep -q 'data-page="error"' "$T/s.html"; then
        put "$sc.$key.rows" "$(grep -c '<li data-number=' "$T/s.html")"
        THREADS=1 CONNS=1 wrk_row "$sc.$key" "HTTP search, $label (1 client)" \
            "$BASE/search?q=$q" "$CK"
    else
        na "$sc.$key" "GET /search?q=$q answered $code"
    fi
}

search_http_row search_http "person's name" \
    "$(sed -n "s/^$sc.search_medium.term=//p" "$RES")"
search_http_row search_http_rare "file number" \
    "$(t=$(sed -n "s/^$sc.search_rare.term=//p" "$RES"); [ -n "$t" ] && echo "js $t")"
search_http_row search_http_frequent "word in every mail" \
    "$(sed -n "s/^$sc.search_frequent.term=//p" "$RES")"
