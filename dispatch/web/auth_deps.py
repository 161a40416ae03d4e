"""Who is looking at a page: a staff member (password login) or a paired household device (cookie)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.auth import staff_sessions
from dispatch.auth.models import SpentFormToken
from dispatch.auth.sessions import COOKIE, LOGIN_FORM_MAX_AGE_S, SessionCodec, WebSession, csrf_ok, same_secret
from dispatch.community.models import Household, Staff
from dispatch.web.deps import Principal, RuntimeDep
from dispatch.web.render import render


def codec(request: Request) -> SessionCodec:
    state = request.app.state
    if getattr(state, "session_codec", None) is None:
        state.session_codec = SessionCodec(state.runtime.settings.secret_key)
    found: SessionCodec = state.session_codec
    return found


def read_session(request: Request) -> WebSession | None:
    return codec(request).read(request.cookies.get(COOKIE))


def start_session(request: Request, response: Response, kind: str, ident: str, secret: str = "") -> WebSession:
    session, cookie = codec(request).new(kind, ident, secret)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=session.max_age_s,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return session


FORM_COOKIE = "vd_form"


def show_form(request: Request, template: str, context: dict[str, object]) -> Response:
    """A login or pairing form, with its token; the token's nonce goes in a cookie, so only this browser can send it
    (login CSRF: another site cannot sign a victim's browser in to the attacker's account)."""
    token, nonce = codec(request).login_form_token()
    response = render(request, template, {**context, "form_token": token})
    response.set_cookie(
        FORM_COOKIE,
        nonce,
        max_age=LOGIN_FORM_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def spend_form_token(request: Request, session: Session, token: str, now: datetime) -> bool:
    """True once for a valid token sent by the browser it was made for; False for a forged, expired, foreign or
    already used one. Runs in the writing session of the login it guards."""
    nonce = codec(request).login_form_nonce(token)
    cookie = request.cookies.get(FORM_COOKIE)
    if nonce is None or cookie is None or not same_secret(nonce, cookie):
        return False
    if session.get(SpentFormToken, nonce) is not None:
        return False
    session.execute(
        delete(SpentFormToken).where(SpentFormToken.spent_at < now - timedelta(seconds=LOGIN_FORM_MAX_AGE_S))
    )
    try:
        with session.begin_nested():  # the same token sent twice at once: one of them wins
            session.add(SpentFormToken(nonce=nonce, spent_at=now))
    except IntegrityError:
        return False
    return True


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
    now = runtime.ctx.clock.now()
    with runtime.readers() as db:
        staff = db.get(Staff, session.id)
        live, used_a_while_ago = staff_sessions.alive(db, session.id, session.secret, now) if staff else (False, False)
        if staff is None or not live:
            raise HTTPException(status.HTTP_303_SEE_OTHER, "log in first", headers={"Location": "/login"})
        principal = Principal("staff", staff.id, staff.role, staff.grid_id, staff.building_id)
        viewer = StaffViewer(principal, session, staff.name)
    if used_a_while_ago:
        with runtime.sessions.begin() as db:
            staff_sessions.touch(db, session.secret, now)
    return viewer


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
