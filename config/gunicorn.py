"""gunicorn settings (docker-compose: ``gunicorn -c config/gunicorn.py config.wsgi:application``).

The access log goes through ``core.logging_gunicorn.AccessLogger`` (no query
strings, tokens masked, no client address) and the same JSON formatter and
scrubbing filter as the application's logs (core/logging.py).
"""

from __future__ import annotations

import os

from core.logging import logging_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# The documented proxy (TRUSTED_PROXIES) sets X-Forwarded-Proto; Django decides
# what to believe (SECURE_PROXY_SSL_HEADER, core.http.client_ip).
forwarded_allow_ips = "*"
accesslog = "-"
logger_class = "core.logging_gunicorn.AccessLogger"
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s"
logconfig_dict = logging_config(json=True, level=os.environ.get("LOG_LEVEL", "INFO"))
