"""An outbox message moves only along its lifecycle's table; the database refuses a status the table does not know."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.db import migrate
from dispatch.db.engine import make_engine
from notify import outbox
from notify.lifecycle import ALLOWED, FINAL, OutboxStatus, TransitionError, check_transition, may_become
from notify.models import OutboxMessage

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LEGAL = [(current, target) for current, targets in ALLOWED.items() for target in targets]
ILLEGAL = [(current, target) for current in OutboxStatus for target in OutboxStatus if target not in ALLOWED[current]]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def queue(session: Session, key: str = "k1") -> OutboxMessage:
    outbox.enqueue(session, dedupe_key=key, to="+8613800000001", body="hello", purpose="alert", now=NOW)
    session.flush()
    message = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    assert message is not None
    return message


def insert_raw(session: Session, status: str) -> None:
    session.execute(
        text(
            'INSERT INTO outbox (dedupe_key, channel, "to", body, purpose, status, attempts, created_at,'
            " next_attempt_at) VALUES ('raw', 'sms', '+8613800000002', 'x', 'alert', :status, 0, :at, :at)"
        ),
        {"status": status, "at": NOW.replace(tzinfo=None)},
    )


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_every_move_in_the_table_is_allowed(current: OutboxStatus, target: OutboxStatus) -> None:
    assert check_transition(current, target) is target


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_move_outside_the_table_raises(current: OutboxStatus, target: OutboxStatus) -> None:
    with pytest.raises(TransitionError, match=f"that is {current.value} cannot become {target.value}"):
        check_transition(current, target)


def test_a_new_message_starts_pending_and_nothing_else() -> None:
    assert check_transition(None, "pending") is OutboxStatus.PENDING
    with pytest.raises(TransitionError, match="a new outbox message cannot become sent"):
        check_transition(None, "sent")


def test_sent_failed_withdrawn_and_cancelled_are_final_and_a_bulk_update_names_its_sources() -> None:
    assert {OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.WITHDRAWN, OutboxStatus.CANCELLED} == FINAL
    assert may_become(OutboxStatus.SENT) == (OutboxStatus.SENDING,)
    assert may_become(OutboxStatus.SENDING) == (OutboxStatus.PENDING, OutboxStatus.SENDING)


def test_an_unknown_status_is_no_status_at_all() -> None:
    with pytest.raises(ValueError, match="'delivered' is not a valid OutboxStatus"):
        check_transition("pending", "delivered")


def test_a_message_object_refuses_an_illegal_move(engine: Engine) -> None:
    with Session(engine) as session:
        message = queue(session)
        message.status = OutboxStatus.WITHDRAWN
        with pytest.raises(TransitionError, match="that is withdrawn cannot become sending"):
            message.status = OutboxStatus.SENDING


def test_the_status_reads_back_as_the_enum(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        queue(session)
    with Session(engine) as session:
        assert session.scalars(select(OutboxMessage.status)).one() is OutboxStatus.PENDING


def test_the_database_refuses_a_status_the_lifecycle_does_not_know(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(IntegrityError, match="ck_outbox_status"):
        insert_raw(session, "delivered")


def test_the_database_refuses_an_update_to_an_unknown_status(engine: Engine) -> None:
    with Session(engine) as session:
        insert_raw(session, "pending")
        with pytest.raises(IntegrityError, match="ck_outbox_status"):
            session.execute(text("UPDATE outbox SET status = 'lost'"))


def test_a_bulk_update_from_a_final_status_changes_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        message = queue(session)
        message.status = OutboxStatus.CANCELLED
        session.flush()
        moved = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status.in_(may_become(OutboxStatus.SENDING)))
            .values(status=OutboxStatus.SENDING)
        )
        assert moved.rowcount == 0  # type: ignore[attr-defined]


def test_the_migration_keeps_queued_messages_and_comes_off_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'older.sqlite'}")
    try:
        migrate.upgrade(engine, "0005")
        with Session(engine) as session, session.begin():
            insert_raw(session, "pending")
        migrate.upgrade(engine)
        with Session(engine) as session:
            assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.PENDING]
            with pytest.raises(IntegrityError):
                session.execute(text("UPDATE outbox SET status = 'lost'"))
        cfg = migrate.alembic_config(engine)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0005")
        with Session(engine) as session, session.begin():
            session.execute(text("UPDATE outbox SET status = 'lost'"))  # no check before 0006
    finally:
        engine.dispose()
