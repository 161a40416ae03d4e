"""Request dependencies in one place: the runtime, a unit-of-work session, and who is calling."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.community.loader import token_hash
from dispatch.community.models import Household, Staff
from dispatch.runtime import Runtime

_bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A session for reading. Routes that write open their own transaction and commit it before answering,
    so a 2xx always means the change is durable."""
    with runtime.readers() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@dataclass(frozen=True)
class Principal:
    kind: str  # household | staff
    id: str
    role: str | None = None
    grid_id: str | None = None
    building_id: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.kind == "staff" and self.role in ("duty_officer", "coordinator")


def get_principal(
    runtime: RuntimeDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Who is calling. Its own short read, closed before the route runs: a route that then opens a writing
    transaction must not hold two pooled connections at once (under load every thread held one and waited for
    a second until the pool timed out)."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send 'Authorization: Bearer <device or staff token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    digest = token_hash(creds.credentials)
    with runtime.readers() as session:
        household = session.scalar(select(Household).where(Household.device_token_hash == digest))
        if household is not None:
            return Principal("household", household.id, building_id=household.building_id)
        staff = session.scalar(select(Staff).where(Staff.api_token_hash == digest))
        if staff is not None:
            return Principal("staff", staff.id, staff.role, staff.grid_id, staff.building_id)
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"}
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]
