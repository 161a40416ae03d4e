"""What the fixed stack costs before any dispatch logic: the `twilio` client's CPU per message.

Every alert is one `messages.create` through the official client (fixed by the product's owners). Sent here to the
local fake provider in its own process, so this process's CPU time is the client's alone (building the request,
`requests`, parsing the answer into a MessageInstance), configured as the service configures it
(`notify.twilio_provider`: proxy and CA settings read once, not per message; that saved ~0.2 ms of ~0.8). With a
wave of three, it bounds what any design that keeps the client can page per core.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._procs import Provider
from benchmarks._provider import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER
from notify.twilio_provider import TwilioProvider

MESSAGES_PER_WAVE = 3


def twilio_client_cost(sends: int = 300, cores: int = 2) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        provider = Provider(Path(tmp) / "messages.log")
        try:
            client = TwilioProvider(ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, api_base_url=provider.base_url)
            for i in range(20):  # connections, imports and caches warmed first
                client.send_sms(f"+861700000{i:04d}", f"warm-up {i}")
            cpu, wall = time.thread_time(), time.perf_counter()
            for i in range(sends):
                client.send_sms(f"+861700000{i:04d}", f"#ABC{i % 10} 急救 medical: 文清路12号3栋 (280 m)")
            cpu_ms = (time.thread_time() - cpu) / sends * 1000
            wall_ms = (time.perf_counter() - wall) / sends * 1000
            client.close()  # the provider's shutdown waits for open keep-alive connections
        finally:
            provider.stop()
    cpu_ms = round(cpu_ms, 3)  # the derived figures come from the one reported, so the report adds up
    per_incident = cpu_ms * MESSAGES_PER_WAVE
    return {
        "sends": sends,
        "client_cpu_ms_per_message": cpu_ms,
        "wall_ms_per_message": round(wall_ms, 3),
        "messages_per_incident": MESSAGES_PER_WAVE,
        "client_cpu_ms_per_incident": round(per_incident, 2),
        "cores": cores,
        "incidents_per_s_if_only_the_client_ran": round(cores * 1000 / per_incident),
    }
