"""The writers' lock hands turns out in the order they were asked for, and a waiter can give up."""

from __future__ import annotations

import threading
import time

import pytest

from dispatch.db.turns import TurnLock


def test_turns_go_in_the_order_they_were_asked_even_if_the_holder_asks_again_at_once() -> None:
    lock = TurnLock()
    order: list[str] = []
    assert lock.acquire()
    waiters = []
    for name in ("a", "b", "c"):

        def wait(name: str = name) -> None:
            lock.acquire()
            order.append(name)
            lock.release()

        t = threading.Thread(target=wait)
        t.start()
        waiters.append(t)
        time.sleep(0.05)  # so that they queue in this order
    lock.release()
    assert lock.acquire(timeout=5)  # the releaser asks again at once: it goes to the back of the queue
    order.append("holder again")
    lock.release()
    for t in waiters:
        t.join(5)
    assert order == ["a", "b", "c", "holder again"]


def test_a_waiter_that_times_out_leaves_the_queue_and_the_lock_stays_usable() -> None:
    lock = TurnLock()
    assert lock.acquire()
    assert lock.acquire(timeout=0.05) is False
    lock.release()
    assert lock.acquire(timeout=0.05)
    lock.release()
    with pytest.raises(RuntimeError):
        lock.release()
