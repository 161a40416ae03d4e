"""Who may use the demo's simulated phones, which show every door code and answer as any vanguard.

They exist only while no real provider is configured (the routes are not even mounted otherwise). Then they are open
to anyone only when the service listens on this machine alone; reachable from elsewhere, they need a duty officer's
or coordinator's login (a staff page session, or a staff token for the JSON API).
"""

from __future__ import annotations

import ipaddress

from fastapi import HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from dispatch.settings import Settings
from dispatch.web.auth_deps import staff_viewer
from dispatch.web.deps import Principal, RuntimeDep, get_principal

DEMO_ROLES = frozenset({"duty_officer", "coordinator"})


def on_this_machine_only(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def demo_is_open(settings: Settings) -> bool:
    return settings.simulated_phones and on_this_machine_only(settings.bind_host)


def _caller(request: Request, runtime: RuntimeDep) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if token:
        return get_principal(runtime, HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip()))
    if request.url.path.startswith("/api/"):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "the demo phones are reachable beyond this machine: send a duty officer's or coordinator's token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return staff_viewer(request, runtime).principal  # a page: no login sends the browser to the login form


def demo_access(request: Request, runtime: RuntimeDep) -> None:
    """A dependency of every demo route."""
    if not runtime.settings.simulated_phones:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "real phones are in use (a provider is configured)")
    if demo_is_open(runtime.settings):
        return
    principal = _caller(request, runtime)
    if principal.kind != "staff" or principal.role not in DEMO_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the demo phones need a duty officer's or coordinator's login")
