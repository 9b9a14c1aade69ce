# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP health checks over TCP or a unix socket, with bounded retries.

This is a private module_utils file: its interface may change without notice.
"""

import http.client as httplib
import socket
import time


class _UnixConnection(httplib.HTTPConnection):
    def __init__(self, path, timeout):
        httplib.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def parse_address(address):
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


def get(address, path, host_header, timeout):
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


def check(address, path, host_header, timeout=5.0, retries=30, delay=1.0, still_running=None):
    """GET ``path`` until a 2xx answer, at most ``retries`` + 1 attempts.

    ``still_running`` (optional callable) is asked between attempts; when it returns a message the
    instance died and the check stops early.  Returns a dict: ok, status, body, attempts, seconds, error.
    """
    start = time.time()
    last = {"status": None, "body": "", "error": None}
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        try:
            status, body = get(address, path, host_header, timeout)
            last = {"status": status, "body": body, "error": None}
            if 200 <= status < 300:
                return dict(last, ok=True, attempts=attempts, seconds=round(time.time() - start, 2))
        except (OSError, IOError, httplib.HTTPException, socket.timeout) as e:
            last = {"status": None, "body": "", "error": "%s: %s" % (type(e).__name__, e)}
        if still_running is not None:
            dead = still_running()
            if dead:
                last["error"] = dead
                break
        if attempt < retries:
            time.sleep(delay)
    return dict(last, ok=False, attempts=attempts, seconds=round(time.time() - start, 2))


def describe(result):
    if result.get("status") is not None:
        return "HTTP %s: %s" % (result["status"], " ".join(result.get("body", "").split())[:300])
    return result.get("error") or "no answer"
