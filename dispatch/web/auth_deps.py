"""Who is looking at a page: a staff member (password login) or a paired household device (cookie)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status

from dispatch.auth.sessions import COOKIE, SessionCodec, WebSession, csrf_ok
from dispatch.community.models import Household, Staff
from dispatch.web.deps import Principal, RuntimeDep


def codec(request: Request) -> SessionCodec:
    state = request.app.state
    if getattr(state, "session_codec", None) is None:
        state.session_codec = SessionCodec(state.runtime.settings.secret_key)
    found: SessionCodec = state.session_codec
    return found


def read_session(request: Request) -> WebSession | None:
    return codec(request).read(request.cookies.get(COOKIE))


def start_session(request: Request, response: Response, kind: str, ident: str) -> WebSession:
    session, cookie = codec(request).new(kind, ident)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=session.max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return session


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE)


def require_csrf(session: WebSession | None, token: str | None) -> None:
    if not csrf_ok(session, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this form has expired; reload the page")


@dataclass(frozen=True)
class StaffViewer:
    principal: Principal
    session: WebSession
    name: str

    @property
    def actor(self) -> str:
        return f"staff:{self.principal.id}"

    def require(self, roles: frozenset[str]) -> None:
        if self.principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role cannot open this page")


def staff_viewer(request: Request, runtime: RuntimeDep) -> StaffViewer:
    session = read_session(request)
    if session is None or session.kind != "staff":
        # A page, not an API: send people to the login form rather than showing a bare 401.
        raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first", headers={"Location": "/login"})
    with runtime.readers() as db:
        staff = db.get(Staff, session.id)
        if staff is None:
            raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first", headers={"Location": "/login"})
        principal = Principal("staff", staff.id, staff.role, staff.grid_id, staff.building_id)
        return StaffViewer(principal, session, staff.name)


StaffDep = Annotated[StaffViewer, Depends(staff_viewer)]


@dataclass(frozen=True)
class HouseholdViewer:
    principal: Principal
    session: WebSession


def household_viewer(request: Request, runtime: RuntimeDep) -> HouseholdViewer | None:
    session = read_session(request)
    if session is None or session.kind != "household":
        return None
    with runtime.readers() as db:
        household = db.get(Household, session.id)
        if household is None:
            return None
        return HouseholdViewer(Principal("household", household.id, building_id=household.building_id), session)


HouseholdDep = Annotated[HouseholdViewer | None, Depends(household_viewer)]
