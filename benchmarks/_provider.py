"""A local fake SMS provider for the intake benchmark, in its own process so it does not share a GIL with the load.

`python -m benchmarks._provider LOG` serves the Twilio REST API (tests/fakes/fake_twilio.py) on a free port, prints
its base URL, and appends one line per created message to LOG: the monotonic time it arrived (comparable across
processes on Linux) and the incident code the message is about. Runs until its stdin closes.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

from tests.fakes.fake_twilio import FakeTwilio, RecordedRequest

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
FROM_NUMBER = "+15550001111"
_CODE = re.compile(r"#([A-Z0-9]{3,6})\b")


class TimedTwilio(FakeTwilio):
    def __init__(self, log: Path) -> None:
        super().__init__(ACCOUNT_SID, AUTH_TOKEN)
        self._log = log.open("a", buffering=1, encoding="utf-8")
        self._log_lock = threading.Lock()

    def _record(self, request: RecordedRequest) -> None:
        at = time.monotonic()
        match = _CODE.search(request.form.get("Body", ""))
        with self._log_lock:
            self._log.write(f"{at:.6f}\t{request.status}\t{match.group(1) if match else '-'}\n")
        # Keep no history in memory: a long run would otherwise grow without bound.


def main() -> int:
    twilio = TimedTwilio(Path(sys.argv[1])).start(keep_alive=True)
    print(twilio.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    twilio.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
