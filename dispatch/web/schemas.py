"""API schemas (pydantic), kept apart from the ORM models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from geo.crs import Crs

IncidentKind = Literal["medical", "fire", "fall", "utility", "security", "distress"]


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    crs: Crs = Field(
        description="The coordinate system the phone reported: WGS84, GCJ02 (most phones in China) or BD09 (Baidu)"
    )
    accuracy_m: float | None = Field(default=None, ge=0)


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: IncidentKind = "medical"
    household: str | None = Field(default=None, max_length=32)
    location: LocationIn | None = None
    address: str | None = Field(
        default=None,
        min_length=2,
        max_length=200,
        description="A typed address, e.g. 解放街道章江路216号1栋2单元501; ambiguous input gets 422 with candidates",
    )
    note: str | None = Field(default=None, max_length=500)
    _location_problem: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _press_kept_without_an_unusable_location(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """A press whose location alone is wrong (NaN, Infinity, out of range, an unknown CRS) is still a press:
        it is taken without the location, which says why (`location_problem`), and placed at the registered home."""
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors()
            if not isinstance(data, dict) or any(e["loc"][:1] != ("location",) for e in errors):
                raise
            press = handler({k: v for k, v in data.items() if k != "location"})
            press._location_problem = "; ".join(
                ".".join(str(part) for part in e["loc"]) + ": " + e["msg"] for e in errors
            )
            return press

    @property
    def location_problem(self) -> str | None:
        return self._location_problem


class EventOut(BaseModel):
    at: datetime
    type: str
    actor: str | None
    detail: dict[str, Any]


class IncidentOut(BaseModel):
    id: str
    code: str
    kind: str
    status: str
    reported_at: datetime
    building: str | None
    address: str | None
    zone: str | None
    grid: str | None
    out_of_area: bool
    escalation_level: int
    accepted_by: str | None
    accepted_by_name: str | None
    alerted: int
    reminder: str = "如危及生命，请同时拨打 120 / 110 / 119 · If life is in danger, also call 120 / 110 / 119"
    timeline: list[EventOut] = []


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["on_scene", "resolved", "false_alarm"]
    note: str | None = Field(default=None, max_length=500)
    # With `on_scene`: which accepter the grid worker sees there (a person id from the incident's pages). Without
    # it, someone is on scene but no qualified responder is recorded: the search and the backups go on.
    responder: str | None = Field(default=None, max_length=16)


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=320)
