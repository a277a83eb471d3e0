"""gunicorn settings for `make serve`, `make loadtest` and production.

The site itself is configured only by the environment (see .env.example);
this file only says how gunicorn runs it: `gunicorn -c therapyinfo/gunicorn_conf.py`.
"""

import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gunicorn's own default reads WEB_CONCURRENCY too; this one scales with the machine.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
wsgi_app = "therapyinfo.wsgi:application"
# Load the app once in the master: a configuration error (no DJANGO_SECRET_KEY)
# then stops start-up with its one line instead of workers failing in a loop.
preload_app = True
# Each request is logged once, with its id, by therapyinfo.middleware.RequestLogMiddleware.
accesslog = None
errorlog = "-"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The TLS proxy in front sets X-Forwarded-*; gunicorn trusts it from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Several instances on one machine must not fight over one control socket.
control_socket_disable = True
