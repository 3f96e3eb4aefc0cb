"""The staff sign-in page, its password check on a worker thread and its limit on failures."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from datasette import hookimpl
from datasette.utils.asgi import Response

from .cells import LOGIN_ROUTE, STATIC


class FailedSignIns:
    """Failed attempts per address in a sliding window: past ``limit``, no more checks."""

    def __init__(self, limit: int = 5, window: float = 600.0):
        self.limit, self.window = limit, window
        self.failures: dict[str, deque] = {}

    def _recent(self, address: str, now: float) -> deque:
        times = self.failures.setdefault(address, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: float | None = None) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        times = self._recent(address, now)
        return self.window - (now - times[0]) if len(times) >= self.limit else 0.0

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(address, now).append(now)


async def sign_in(request, datasette):
    """``/-/login``: datasette-auth-passwords' accounts, checked off the event loop (a pbkdf2
    hash takes a core for a third of a second), one check at a time, at most five failures per
    address in ten minutes."""
    from datasette_auth_passwords.utils import verify_password

    state = datasette.__dict__.setdefault("_cotour_sign_in", {})
    failures = state.setdefault("failures", FailedSignIns())
    lock = state.setdefault("lock", asyncio.Lock())
    config = datasette.plugin_config("datasette-auth-passwords") or {}
    accounts = {key.split("_password_hash")[0]: value for key, value in config.items()
                if key.endswith("_password_hash") and isinstance(value, str)}
    error, status = None, 200
    if request.method == "POST":
        address = (request.scope.get("client") or ("?",))[0]
        wait = failures.blocked(address)
        if wait:
            error = (f"Troppi tentativi falliti da questo indirizzo: riprova fra "
                     f"{int(wait // 60) + 1} minuti.")
            status = 429
        else:
            form = await request.post_vars()
            username, password = form.get("username") or "", form.get("password") or ""
            password_hash = accounts.get(username)
            async with lock:
                ok = bool(password_hash) and await asyncio.to_thread(
                    verify_password, password, password_hash)
            if ok:
                actor = (config.get("actors") or {}).get(username) or {"id": username}
                response = Response.redirect(datasette.urls.path("/"))
                response.set_cookie("ds_actor", datasette.sign({"a": actor}, "actor"))
                return response
            failures.failed(address)
            error, status = "Nome utente o password non validi.", 403
    page = await datasette.render_template(
        "cotour_login.html", {"error": error, "accounts": bool(accounts)}, request=request)
    return Response.html(page, status=status)


async def stylesheet(request, datasette):
    return Response((STATIC / "cotour.css").read_text(encoding="utf-8"),
                    content_type="text/css; charset=utf-8",
                    headers={"cache-control": "public, max-age=86400"})


@hookimpl
def register_routes():
    return [(f"^{LOGIN_ROUTE}$", sign_in), (r"^/-/cotour/cotour\.css$", stylesheet)]
