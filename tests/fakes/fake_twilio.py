"""An in-process fake of Twilio's REST API (Messages and Calls creates) for behaviour tests.

It speaks real HTTP on 127.0.0.1 so the real `twilio` client can be pointed at it, records every
request, and fails on demand. It checks what Twilio itself would reject first (credentials, a
missing `To`), not the whole contract: that is what the Prism contract tests are for.

    with FakeTwilio(account_sid, auth_token) as twilio:
        twilio.fail_next(503)
        ... TwilioProvider(account_sid, auth_token, "+15550000000", api_base_url=twilio.base_url)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

API_VERSION = "2010-04-01"
_CREATE_PATH = re.compile(rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/(?P<kind>Messages|Calls)\.json$")


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it, and what it answered."""

    method: str
    path: str
    fields: tuple[tuple[str, str], ...]  # the form body in order, repeated keys kept
    auth_ok: bool
    status: int
    sid: str | None = None  # the created resource's sid when status is 201

    @property
    def form(self) -> dict[str, str]:
        """The form fields; for a repeated key, its last value (see `getlist`)."""
        return dict(self.fields)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]


@dataclass
class _Failure:
    status: int
    code: int
    times: int
    problem_details: bool


class FakeTwilio:
    """A Twilio REST API stand-in on a free local port, served from a background thread."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "test-auth-token",
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._delays: list[float] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, *, keep_alive: bool = False) -> FakeTwilio:
        """`keep_alive`: HTTP/1.1, connections reused as Twilio's own API does (the load benchmark); the default
        closes each connection so that nothing lingers after stop() in tests."""
        if self._server is not None:
            raise RuntimeError("FakeTwilio is already running")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        server.fake = self
        self._server = server
        host, port = server.server_address[:2]
        self._base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket; the port then refuses connections."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()  # wakes requests held by delay_next
        server.shutdown()
        server.server_close()  # also joins the request threads
        thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Where to point the client, e.g. http://127.0.0.1:54321 (kept after `stop()`)."""
        if self._base_url is None:
            raise RuntimeError("FakeTwilio was never started")
        return self._base_url

    # -- test controls -----------------------------------------------------------------------

    def fail_next(self, status: int, code: int = 20500, times: int = 1, *, problem_details: bool = False) -> None:
        """Answer the next `times` authenticated creates with `status` and a Twilio error body.

        `problem_details` answers in the RFC 9457 shape some newer Twilio APIs use (type, title, status, code),
        which twilio-python raises as `TwilioServiceException` instead of `TwilioRestException`.
        """
        with self._lock:
            self._failures.append(_Failure(status, code, times, problem_details))

    def delay_next(self, seconds: float) -> None:
        """Hold the answer to the next request for `seconds` (cut short by `stop()`).

        The request is handled (and a create recorded) first, as when Twilio accepted a message
        but its answer never reached us.
        """
        with self._lock:
            self._delays.append(seconds)

    # -- what was received -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[RecordedRequest]:
        """Message creates the fake accepted (201), oldest first."""
        return [r for r in self.requests if r.path.endswith("/Messages.json") and r.status == 201]

    @property
    def calls(self) -> list[RecordedRequest]:
        """Call creates the fake accepted (201), oldest first."""
        return [r for r in self.requests if r.path.endswith("/Calls.json") and r.status == 201]

    # -- request handling (called from server threads) ---------------------------------------

    def _take_delay(self) -> float:
        with self._lock:
            return self._delays.pop(0) if self._delays else 0.0

    def _take_failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return failure

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _auth_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header.removeprefix("Basic "), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"

    def _handle(
        self, method: str, path: str, fields: tuple[tuple[str, str], ...], auth: str | None
    ) -> tuple[int, dict[str, Any]]:
        auth_ok = self._auth_ok(auth)
        status, body = self._answer(method, path, dict(fields), auth_ok)
        sid = body["sid"] if status == 201 else None
        self._record(RecordedRequest(method, path, fields, auth_ok, status, sid))
        return status, body

    def _answer(self, method: str, path: str, form: dict[str, str], auth_ok: bool) -> tuple[int, dict[str, Any]]:
        if not auth_ok:
            return _error(401, 20003, "Authentication Error - invalid username")
        match = _CREATE_PATH.match(path)
        if match is None or match["account"] != self.account_sid:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if method != "POST":
            return _error(405, 20004, "Method not allowed")
        failure = self._take_failure()
        if failure is not None and failure.problem_details:
            return failure.status, {
                "type": f"https://www.twilio.com/docs/api/errors/{failure.code}",
                "title": "Injected failure",
                "status": failure.status,
                "code": failure.code,
                "detail": "FakeTwilio.fail_next(problem_details=True)",
            }
        if failure is not None:
            return _error(failure.status, failure.code, "Injected failure")
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("From"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if match["kind"] == "Messages":
            if not form.get("Body"):
                return _error(400, 21602, "Message body is required.")
            return 201, self._message(form)
        return 201, self._call(form)

    def _message(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "SM" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": form["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form["From"],
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form["To"],
            "uri": f"{base}.json",
        }

    def _call(self, form: dict[str, str]) -> dict[str, Any]:
        sid = "CA" + secrets.token_hex(16)
        now = formatdate(usegmt=True)
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}"
        return {
            "account_sid": self.account_sid,
            "annotation": None,
            "answered_by": None,
            "api_version": API_VERSION,
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form["From"],
            "from_formatted": form["From"],
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {"notifications": f"{base}/Notifications.json"},
            "to": form["To"],
            "to_formatted": form["To"],
            "trunk_sid": None,
            "uri": f"{base}.json",
        }


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Server(ThreadingHTTPServer):
    fake: FakeTwilio
    daemon_threads = False  # so server_close() waits for in-flight requests

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test) is expected; stay quiet instead of printing."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        fields = tuple(parse_qsl(raw, keep_blank_values=True))
        path = self.path.split("?", 1)[0]
        status, body = fake._handle(method, path, fields, self.headers.get("Authorization"))
        delay = fake._take_delay()
        if delay and fake._stopping.wait(delay):
            return  # stopped while holding the answer: drop the connection
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and left

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log on stderr."""


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, the second waits for the client's delayed ACK (~40 ms)
    # on a kept-alive connection.
    disable_nagle_algorithm = True
