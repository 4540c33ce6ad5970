"""gunicorn's access log without query strings, tokens or the client's address.

Used from ``config/gunicorn.py`` (``logger_class``). The request line, the path,
the referrer and every header atom are masked before the format sees them, so
no format string, however written, can put a token or a search in the log.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from .logging import mask_path, scrub


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        method = environ.get("REQUEST_METHOD", "-")
        path = mask_path(environ.get("PATH_INFO", "") or "")
        atoms.update(
            {
                "r": f"{method} {path} {environ.get('SERVER_PROTOCOL', '-')}",
                "U": path,
                "q": "",
                "f": mask_path(environ.get("HTTP_REFERER", "-") or "-"),
                # The client's address is personal data; the application's own
                # audit trail records it where it is needed (core.http.client_ip).
                "h": "-",
                "u": "-",
            }
        )
        for key, value in list(atoms.items()):
            if key.startswith("{") and isinstance(value, str):
                atoms[key] = scrub(value)
        return atoms
