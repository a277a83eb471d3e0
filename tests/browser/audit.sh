#!/usr/bin/env bash
# `make audit`: Lighthouse (mobile preset) on the home, an article, a therapy and
# the comparison page, served production-style (gunicorn, DEBUG off, WhiteNoise,
# fingerprinted static files) from a throwaway SQLite database. Prints the four
# scores per page. Not part of `make test`: it takes a minute and needs npm.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${AUDIT_PORT:-8131}
WORK=$(mktemp -d /tmp/therapyinfo-audit.XXXXXX)
export DJANGO_SECRET_KEY=audit-only-insecure-key-0123456789abcdef
export DJANGO_DEBUG=off
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="sqlite:///$WORK/audit.sqlite3"
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}

server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

.venv/bin/python manage.py migrate --no-input --verbosity 0
.venv/bin/python manage.py load_content --verbosity 0 >/dev/null
.venv/bin/python manage.py collectstatic --no-input --verbosity 0
.venv/bin/gunicorn therapyinfo.wsgi --bind "127.0.0.1:$PORT" --workers 2 --log-level warning &
server=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

pages=(/ /articles/ketamine-infusion-therapy/ /therapies/ketamine/ /compare/)
for path in "${pages[@]}"; do
    report="$WORK/report-$(echo "$path" | tr -c 'a-z0-9' '-').json"
    # Headless Chromium now and then loses the trace (NO_NAVSTART); try again.
    for attempt in 1 2 3; do
        tests/browser/node_modules/.bin/lighthouse "http://127.0.0.1:$PORT$path" \
            --chrome-flags="--headless=new --no-sandbox --disable-gpu" \
            --output=json --output-path="$report" --quiet && break
        [ "$attempt" = 3 ] && exit 1
        echo "  (Lighthouse run $attempt failed; retrying)"
    done
    .venv/bin/python - "$report" "$path" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
scores = {key: round(cat["score"] * 100) for key, cat in report["categories"].items()}
print(f"{sys.argv[2]:40} performance {scores['performance']:3}  accessibility "
      f"{scores['accessibility']:3}  best-practices {scores['best-practices']:3}  seo {scores['seo']:3}")
for key, cat in report["categories"].items():
    for ref in cat["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            print(f"    {key}: {audit['id']}: {audit['title']}")
PY
done
