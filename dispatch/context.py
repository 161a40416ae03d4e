"""What the services need from the outside world, bundled once at the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.clock import Clock
from dispatch.directory import Directory
from dispatch.escalation.policy import Policy
from dispatch.links import LinkSigner


@dataclass
class DispatchContext:
    clock: Clock
    directory: Directory
    policy: Policy
    links: LinkSigner
    public_base_url: str
    wait_s: float | None = None
    alert_budget_per_day: int | None = None
