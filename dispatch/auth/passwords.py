"""Staff passwords, hashed with argon2id (argon2-cffi, default parameters).

Demo accounts: data/demo/staff.csv holds a password per staff member. Hashing ~440 of them with argon2's defaults
at load time would add tens of seconds to every fresh demo database, so the loader stores no hash and the first
login of a demo account checks the typed password against the community file, then stores a real argon2 hash;
from then on only the hash is used. A deployment that sets passwords (`set_password`) never touches the file.
"""

from __future__ import annotations

import contextlib
import csv
import hmac
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.auth.staff_sessions import revoke_all
from dispatch.community.models import Staff

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def set_password(session: Session, staff_id: str, password: str) -> None:
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise KeyError(staff_id)
    staff.password_hash = hash_password(password)
    revoke_all(session, staff_id)  # whoever was signed in with the old password is signed out


def demo_password(data_dir: Path, staff_id: str) -> str | None:
    path = data_dir / "staff.csv"
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row.get("staff_id") == staff_id:
                return row.get("password") or None
    return None


def find_staff(session: Session, login: str) -> Staff | None:
    """Staff log in with their staff id (S0003) or their phone number."""
    login = login.strip()
    if not login:
        return None
    return session.scalar(select(Staff).where(or_(Staff.id == login, Staff.phone == login)))


def _spend_a_check(password: str) -> None:
    """One argon2 verification that fails, as long as a real one: a wrong login and a wrong password take the same
    time, so timing tells nobody which staff ids exist."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not a password: only ever checked against")
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_dummy_hash, password)


def authenticate(session: Session, login: str, password: str, demo_dir: Path | None) -> Staff | None:
    """The staff member if the password is right, else None. Runs in a writing session: it may store a hash.
    Every path does exactly one argon2 computation (a check, or the hash a first demo login stores)."""
    staff = find_staff(session, login)
    if staff is None:
        _spend_a_check(password)
        return None
    if staff.password_hash:
        try:
            _hasher.verify(staff.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(staff.password_hash):
            staff.password_hash = hash_password(password)
        return staff
    expected = demo_password(demo_dir, staff.id) if demo_dir is not None else None
    if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        _spend_a_check(password)
        return None
    staff.password_hash = hash_password(password)
    return staff
