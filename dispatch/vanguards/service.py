"""A vanguard's availability and whereabouts: the on/off toggle and the live position their phone shares.

Both are written to the database (the truth every process reloads from) and to this process's directory, whose
index swaps the one entry under its lock: a position update never stalls matching. On PostgreSQL the other app
processes are told when the transaction commits, and re-read the vanguard (`Directory.changed_in`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dispatch.directory import Directory
from dispatch.matching import Candidate
from dispatch.vanguards.models import Vanguard
from geo.crs import Crs, to_wgs84


class UnknownVanguard(LookupError):
    pass


def _get(session: Session, vanguard_id: str) -> Vanguard:
    vanguard = session.get(Vanguard, vanguard_id)
    if vanguard is None:
        raise UnknownVanguard(vanguard_id)
    return vanguard


def set_available(session: Session, directory: Directory, vanguard_id: str, available: bool) -> None:
    _get(session, vanguard_id).available = available
    session.flush()
    directory.set_available(vanguard_id, available)
    directory.changed_in(session, vanguard_id)


def report_position(
    session: Session, directory: Directory, vanguard_id: str, lat: float, lon: float, crs: Crs, at: datetime
) -> Candidate | None:
    """A position from the vanguard's phone (in the system it states); raises CoordinateError on nonsense."""
    lat, lon = to_wgs84(lat, lon, crs)
    vanguard = _get(session, vanguard_id)
    vanguard.live_lat, vanguard.live_lon, vanguard.live_at = lat, lon, at
    session.flush()
    x, y = directory.projector.to_metric(lon, lat)
    directory.set_position(vanguard_id, x, y, at)
    directory.changed_in(session, vanguard_id)
    return directory.vanguard(vanguard_id)


def clear_position(session: Session, directory: Directory, vanguard_id: str) -> None:
    """Stop sharing: matching goes back to the home building."""
    vanguard = _get(session, vanguard_id)
    vanguard.live_lat = vanguard.live_lon = vanguard.live_at = None
    session.flush()
    directory.set_position(vanguard_id, None, None, None)
    directory.changed_in(session, vanguard_id)
