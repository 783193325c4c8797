#!/bin/sh
# The HTML report in a real browser (issue 22): renders the page of every emulator profile
# (samples/servers/*.json), of the hostile-html profile (samples/hostile/), of a failed run and
# of a batch; then, for each page, Debian's Chromium (headless, no network: the page's CSP
# forbids every fetch, and the host resolver maps every name to nothing) dumps the DOM, which
# must hold the matrix rows and the findings, no <script> and the page's own title (a hostile
# script would have changed it); takes a screenshot, which must not be blank
# (tests/html/png_check.py); and `tidy -errors` finds no error in the markup.
#   SMTPPROBE=build/smtpprobe SMTPPROBE_TEST_OUTPUT_DIR=build/test-outputs tests/html/run.sh
# Needs chromium and tidy (exit 77 when either is missing). Outputs: $OUT = the output dir's
# html/ (pages, DOMs, screenshots), for the secret scan too.
set -eu
cd "$(dirname "$0")/../.."
SMTPPROBE=${SMTPPROBE:-$PWD/build/smtpprobe}
OUT=${SMTPPROBE_TEST_OUTPUT_DIR:-$PWD/build/test-outputs}/html
for tool in chromium tidy python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "tests/html: $tool is missing: skipped"; exit 77; }
done
rm -rf "$OUT"
mkdir -p "$OUT"
PROFILE_DIR=$(mktemp -d)
trap 'rm -rf "$PROFILE_DIR"' EXIT
fail() { # pages are checked two at a time, in subshells: failures are lines in a file
    echo "FAIL: $*"
    echo "$*" >>"$OUT/failures.txt"
}

# The pages. Credentials for the hostile profile: its refusal text must stay text too.
for profile in samples/servers/*.json samples/hostile/hostile-html.json; do
    name=$(basename "$profile" .json)
    "$SMTPPROBE" --demo --profile "$profile" --format html -o "$OUT/$name.html" 2>/dev/null || true
done
HOSTILE_PASSWORD=hostile-test-password-not-real "$SMTPPROBE" --demo \
    --profile samples/hostile/hostile-html.json --user hostile-user --password-env HOSTILE_PASSWORD \
    --format html -o "$OUT/hostile-html-credentials.html" 2>/dev/null || true
# A failed run: nothing listens on port 1.
"$SMTPPROBE" 127.0.0.1:1 --connect-timeout 2 --format html -o "$OUT/failed.html" 2>/dev/null || true
# A batch: two targets, one of which fails, on one page.
"$SMTPPROBE" 127.0.0.1:1 127.0.0.2:1 --connect-timeout 2 --format html -o "$OUT/batch.html" \
    2>/dev/null || true

browse() { # browse PAGE ARGS...: headless Chromium on the file, no network
    page=$1
    shift
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
        --disable-background-networking --disable-component-update --mute-audio \
        --host-resolver-rules="MAP * ~NOTFOUND" --proxy-server="127.0.0.1:9" \
        --user-data-dir="$PROFILE_DIR/$(basename "$page")" "$@" "file://$page" 2>/dev/null
}

check_page() { # check_page PAGE
    page=$1
    name=$(basename "$page" .html)
    [ -s "$page" ] || { fail "$name: no page written"; return; }
    # tidy: 0 clean, 1 warnings only, 2 errors.
    rc=0
    tidy -errors -q --show-warnings no "$page" >"$OUT/$name.tidy.txt" 2>&1 || rc=$?
    [ "$rc" -lt 2 ] || fail "$name: tidy found errors ($OUT/$name.tidy.txt)"
    # One browser start per page: the DOM and the screenshot from the same load.
    browse "$page" --dump-dom --screenshot="$OUT/$name.png" --window-size=1200,1800 \
        --hide-scrollbars >"$OUT/$name.dom.html" || fail "$name: chromium --dump-dom failed"
    dom="$OUT/$name.dom.html"
    title=$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' "$page" | head -1)
    grep -qF "<title>$title</title>" "$dom" || fail "$name: the title changed (a script ran?)"
    ! grep -qi "<script" "$dom" || fail "$name: a <script> element in the DOM"
    ! grep -qi "<img\|<iframe\|<a href=\"javascript" "$dom" || fail "$name: server markup became elements"
    ! grep -q "pwned</title>" "$dom" || fail "$name: the hostile script ran"
    case $name in
    failed) grep -q "No session" "$dom" || fail "$name: no 'No session' verdict" ;;
    batch)
        [ "$(grep -c '<a href="#target-' "$dom")" -eq 2 ] || fail "$name: not two summary rows"
        [ "$(grep -o '<article id="target-' "$dom" | wc -l)" -eq 2 ] || fail "$name: not two reports"
        ;;
    *)
        # Every matrix row of the page is in the DOM, and each finding.
        rows=$(grep -o '<tr class="[a-z]*"><td><code>' "$page" | wc -l)
        [ "$rows" -ge 1 ] || fail "$name: no matrix row in the page"
        [ "$(grep -o '<tr class="[a-z]*"><td><code>' "$dom" | wc -l)" -eq "$rows" ] ||
            fail "$name: the DOM does not hold the $rows matrix rows"
        [ "$(grep -o 'class="finding ' "$dom" | wc -l)" -eq "$(grep -o 'class="finding ' "$page" | wc -l)" ] ||
            fail "$name: the DOM does not hold the findings"
        ;;
    esac
    case $name in
    hostile-html*)
        grep -qF "&lt;script&gt;document.title='pwned'&lt;/script&gt;" "$dom" ||
            grep -qF "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" "$dom" ||
            fail "$name: the banner's <script> is not shown as text"
        grep -qF "onerror=alert(1)&gt;" "$dom" || fail "$name: the onerror markup is not shown as text"
        grep -qF '\x1B[2J' "$dom" || fail "$name: the terminal escape is not shown visibly"
        ;;
    esac
    python3 tests/html/png_check.py "$OUT/$name.png" || fail "$name: the screenshot is blank"
}

# Two pages at a time (one Chromium each): the suite's wall time on two cores.
pages=$(ls "$OUT"/*.html)
n=0
for page in $pages; do
    check_page "$page" &
    n=$((n + 1))
    [ $((n % 2)) -ne 0 ] || wait
done
wait
failures=$(cat "$OUT/failures.txt" 2>/dev/null | wc -l)
echo "tests/html: $(echo "$pages" | wc -w) pages, $failures failure(s); outputs in $OUT"
[ "$failures" -eq 0 ]
