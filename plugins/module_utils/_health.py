# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP health checks over TCP or a unix socket, with bounded retries.

This is a private module_utils file: its interface may change without notice.
"""

import http.client as httplib
import socket
import time
from typing import Any, Callable, Dict, Optional, Tuple


class _UnixConnection(httplib.HTTPConnection):
    def __init__(self, path, timeout):
        httplib.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def parse_address(address: str) -> Tuple[str, Any]:
    """``/run/x.sock`` -> ("unix", path); ``host:port``/``[v6]:port``/``port`` -> ("tcp", (host, port))."""
    if address.startswith("/"):
        return "unix", address
    host, sep, port = address.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", address
    host = host.strip("[]") or "127.0.0.1"
    if host in ("0.0.0.0", "*"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return "tcp", (host, int(port))


def get(address: str, path: str, host_header: str, timeout: float) -> Tuple[int, str]:
    """One GET; returns (status, body excerpt) or raises OSError/HTTPException."""
    kind, where = parse_address(address)
    if kind == "unix":
        conn = _UnixConnection(where, timeout)
    else:
        conn = httplib.HTTPConnection(where[0], where[1], timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host_header, "User-Agent": "containerless.zipapp health check"})
        resp = conn.getresponse()
        body = resp.read(2048).decode("utf-8", "replace")
        return resp.status, body
    finally:
        conn.close()


# An answer that no retry can change: the app refused the request itself.  Django answers 400 to a Host header
# that is not in ALLOWED_HOSTS (DisallowedHost), so 30 retries of it only make the failure slower.
FINAL_STATUSES = frozenset([400])


def check(address: str, path: str, host_header: str, timeout: float = 5.0, retries: int = 30, delay: float = 1.0,
          still_running: Optional[Callable[[], Optional[str]]] = None) -> Dict[str, Any]:
    """GET ``path`` until a 2xx answer, at most ``retries`` + 1 attempts.

    ``still_running`` (optional callable) is asked between attempts; when it returns a message the
    instance died and the check stops early.  An answer in FINAL_STATUSES stops it too.  Returns a dict:
    ok, status, body, attempts, seconds, error, host.
    """
    start = time.time()
    last = {"status": None, "body": "", "error": None}  # type: Dict[str, Any]
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        try:
            status, body = get(address, path, host_header, timeout)
            last = {"status": status, "body": body, "error": None}
            if 200 <= status < 300:
                return dict(last, ok=True, attempts=attempts, seconds=round(time.time() - start, 2), host=host_header)
            if status in FINAL_STATUSES:
                break
        except (OSError, IOError, httplib.HTTPException, socket.timeout) as e:
            last = {"status": None, "body": "", "error": "%s: %s" % (type(e).__name__, e)}
        if still_running is not None:
            dead = still_running()
            if dead:
                last["error"] = dead
                break
        if attempt < retries:
            time.sleep(delay)
    return dict(last, ok=False, attempts=attempts, seconds=round(time.time() - start, 2), host=host_header)


def describe(result: Dict[str, Any]) -> str:
    """What a failed check got, with what to do about an answer that says the request itself was refused."""
    if result.get("status") is not None:
        text = "HTTP %s: %s" % (result["status"], " ".join(result.get("body", "").split())[:300])
        if result["status"] == 400:
            text += (" (the app refused the request with Host: %s, after %d attempt(s). Django answers 400 to a Host "
                     "header that is not in its ALLOWED_HOSTS (DisallowedHost): add %s to ALLOWED_HOSTS, or set "
                     "zipapp_health_host to a host name the app allows)"
                     % (result.get("host", "localhost"), result.get("attempts", 1), result.get("host", "localhost")))
        return text
    return result.get("error") or "no answer"
