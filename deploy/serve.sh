#!/usr/bin/env bash
# `make serve`: nginx on HOST:PORT (127.0.0.1:8000) in front of gunicorn on a
# unix socket, both in the foreground; Ctrl-C stops both. The site reads its
# settings from the environment (.env.example); DEBUG is off.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8000}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || { echo "serve: nginx not found (apt-get install nginx-light)" >&2; exit 1; }
RUN=$(mktemp -d /tmp/therapyinfo-serve.XXXXXX)
# The page cache outlives the front door (not deleted on stop), so a restart
# during a database outage still has pages to serve.
CACHE_DIR=${FRONT_DOOR_CACHE_DIR:-$PWD/var/nginx-cache}
mkdir -p "$CACHE_DIR"
export FRONT_DOOR_CACHE_DIR=$CACHE_DIR
if [ "$(id -u)" = 0 ]; then
    # nginx's workers run as nobody:nogroup. The socket takes the directory's
    # group (setgid) and gunicorn's umask keeps others out: only nginx connects.
    chgrp nogroup "$RUN"
    chmod 2750 "$RUN"
    chown nobody:nogroup "$CACHE_DIR"
    export GUNICORN_GROUP=nogroup
fi
# nginx puts the visitor's address in X-Forwarded-For: one proxy to count back.
export DJANGO_TRUSTED_PROXY_COUNT=${DJANGO_TRUSTED_PROXY_COUNT:-1}

conf=$(.venv/bin/python deploy/render_nginx.py --prefix "$RUN" \
    --listen "${HOST:-127.0.0.1}:$PORT" --upstream "unix:$RUN/gunicorn.sock" \
    --cache-dir "$CACHE_DIR" ${FRONT_DOOR_TRUSTED_PROXIES:+$(printf -- '--trusted-proxy %s ' ${FRONT_DOOR_TRUSTED_PROXIES//,/ })})
"$NGINX" -t -q -p "$RUN" -c "$conf" -e stderr

pids=()
stop() {
    trap - EXIT INT TERM
    kill "${pids[@]}" 2>/dev/null || true
    wait || true
    rm -rf "$RUN"
}
trap stop EXIT INT TERM

GUNICORN_BIND="unix:$RUN/gunicorn.sock" .venv/bin/gunicorn -c deploy/gunicorn_conf.py &
pids+=($!)
"$NGINX" -p "$RUN" -c "$conf" -e stderr &
pids+=($!)
echo "serve: http://${HOST:-127.0.0.1}:$PORT/ (nginx -> gunicorn at $RUN/gunicorn.sock); Ctrl-C stops both"
# Either one exiting stops the other.
wait -n
