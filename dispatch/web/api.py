"""The JSON API: report an incident, follow it, confirm it. Thin: parse, call one service, map errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dispatch import wellbeing
from dispatch.community.models import Household
from dispatch.escalation import dispatcher
from dispatch.escalation.snapshot import Closed, ConfirmedOnScene
from dispatch.incidents import service
from dispatch.incidents.models import Incident
from dispatch.incidents.states import Status, TransitionError, check_transition
from dispatch.incidents.transitions import transition
from dispatch.runtime import Runtime
from dispatch.web.deps import Principal, PrincipalDep, RuntimeDep, SessionDep
from dispatch.web.schemas import ConfirmIn, IncidentIn, IncidentOut
from dispatch.web.views import check_can_see, incident_out, visible_to

router = APIRouter(prefix="/api/v1")


def press_button(
    runtime: Runtime,
    household_id: str,
    kind: str,
    gps: service.GpsFix | None,
    note: str | None,
    idempotency_key: str | None,
    address: str | None = None,
    unusable_location: str | None = None,
) -> tuple[IncidentOut, service.IntakeResult]:
    """One press, committed before anyone is told it was received. Shared by the API and the resident page."""
    for attempt in (1, 2):
        try:
            with runtime.sessions.begin() as session:
                household = session.get(Household, household_id)
                if household is None:
                    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown household")
                result = service.report(
                    session,
                    runtime.ctx,
                    household=household,
                    kind=kind,
                    gps=gps,
                    note=note,
                    idempotency_key=idempotency_key,
                    address=address,
                    unusable_location=unusable_location,
                )
                out = incident_out(session, runtime.ctx, result.incident, with_timeline=True)
            break
        except IntegrityError:
            # Two presses with one idempotency key raced; the loser reads the winner's incident.
            if attempt == 2:
                raise
        except service.IntakeError as exc:
            raise HTTPException(exc.status_code, exc.reason) from exc
    runtime.worker.wake()
    return out, result


@router.post(
    "/incidents",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentOut,
    responses={
        200: {"description": "the same press again (idempotency key or within 5 minutes)"},
        422: {"description": "a wrong field; if only the location was unusable, the press WAS recorded (`incident`)"},
    },
)
def report_incident(
    body: IncidentIn,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> IncidentOut | JSONResponse:
    if principal.kind != "household":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "incidents are reported with a household device token")
    if body.household is not None and body.household != principal.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this device token belongs to another household")
    gps = service.GpsFix(body.location.lat, body.location.lon, body.location.crs) if body.location else None
    out, result = press_button(
        runtime, principal.id, body.kind, gps, body.note, idempotency_key, body.address, body.location_problem
    )
    location = f"/api/v1/incidents/{out.id}"
    problem = body.location_problem or result.location_problem  # the first, read here; the second, converting
    if problem:
        return _recorded_without_location(out, problem, location)
    response.headers["Location"] = location
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return out


def _recorded_without_location(out: IncidentOut, problem: str, location: str) -> JSONResponse:
    """422 says the location was wrong; the press itself is kept, at the household's registered building, so the
    device must not send it again as if it were lost."""
    detail = {
        "field": "location",
        "message": f"the location cannot be used ({problem}); the press WAS recorded, placed at the household's "
        "registered building. If life is in danger, also call 120 / 110 / 119.",
        "recorded": True,
        "incident": out.model_dump(mode="json"),
    }
    return JSONResponse(
        {"detail": detail},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        headers={"Location": location, "Cache-Control": "no-store"},
    )


@router.get("/incidents/{incident_id}", response_model=IncidentOut)
def get_incident(incident_id: str, principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep) -> IncidentOut:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
    check_can_see(principal, incident)
    return incident_out(session, runtime.ctx, incident, with_timeline=True)


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(
    principal: PrincipalDep, runtime: RuntimeDep, session: SessionDep, active_only: bool = True, limit: int = 100
) -> list[IncidentOut]:
    query = select(Incident).order_by(Incident.reported_at.desc()).limit(max(1, min(limit, 500)))
    if active_only:
        query = query.where(Incident.closed_at.is_(None))
    query = query.where(*visible_to(principal))
    return [incident_out(session, runtime.ctx, i, with_timeline=False) for i in session.scalars(query)]


def change_status(
    runtime: Runtime,
    principal: Principal,
    incident_id: str,
    target: Status,
    note: str | None,
    responder: str | None = None,
) -> IncidentOut:
    now = runtime.ctx.clock.now()
    with runtime.sessions.begin() as session:
        incident = session.get(Incident, incident_id, with_for_update=session.get_bind().dialect.name != "sqlite")
        if incident is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such incident")
        check_can_see(principal, incident)
        actor = f"{principal.kind}:{principal.id}"
        try:
            if target is Status.ON_SCENE:
                # Someone is with the patient: the core decides who that is and whom it stands down.
                check_transition(incident.status, target.value)
                dispatcher.decide(session, runtime.ctx, incident, [ConfirmedOnScene(actor, responder)])
                done = True
            else:
                done = transition(session, incident, target, now, actor=actor, note=note)
        except TransitionError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if not done:
            raise HTTPException(status.HTTP_409_CONFLICT, f"the incident changed meanwhile: now {incident.status}")
        if target is not Status.ON_SCENE:
            dispatcher.decide(session, runtime.ctx, incident, [Closed(target)])
            wellbeing.schedule_followup(session, runtime.ctx, incident)  # whoever went is asked, later, how it went
        out = incident_out(session, runtime.ctx, incident, with_timeline=True)
    runtime.worker.wake()
    return out


@router.post("/incidents/{incident_id}/confirm", response_model=IncidentOut)
def confirm_incident(incident_id: str, body: ConfirmIn, principal: PrincipalDep, runtime: RuntimeDep) -> IncidentOut:
    """A grid worker (or the duty officer) confirms: on scene, resolved or false alarm."""
    if principal.kind != "staff":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only community staff confirm incidents")
    return change_status(runtime, principal, incident_id, Status(body.status), body.note, body.responder)


@router.post("/incidents/{incident_id}/cancel", response_model=IncidentOut)
def cancel_incident(incident_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> IncidentOut:
    """The household that pressed the button calls it off (pressed by mistake, or help no longer needed)."""
    if principal.kind != "household":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the reporting household cancels; staff confirm")
    return change_status(runtime, principal, incident_id, Status.CANCELLED, None)
