import os
import socket
import threading
import http.server

import pytest

from ansible_collections.containerless.zipapp.plugins.module_utils import _health


class Handler(http.server.BaseHTTPRequestHandler):
    answers = []

    def do_GET(self):
        status = self.answers.pop(0) if self.answers else 200
        body = ("%s %s" % (self.path, self.headers.get("Host"))).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tcp_server():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()


class UnixServer(http.server.HTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self):
        self.socket.bind(self.server_address)

    def get_request(self):
        conn = self.socket.accept()[0]
        return conn, ("local", 0)


def test_parse_address():
    assert _health.parse_address("/run/x.sock") == ("unix", "/run/x.sock")
    assert _health.parse_address("127.0.0.1:8000") == ("tcp", ("127.0.0.1", 8000))
    assert _health.parse_address("8000") == ("tcp", ("127.0.0.1", 8000))
    assert _health.parse_address("0.0.0.0:80") == ("tcp", ("127.0.0.1", 80))
    assert _health.parse_address("[::1]:8000") == ("tcp", ("::1", 8000))


def test_retries_until_2xx(tcp_server):
    Handler.answers = [503, 500]
    result = _health.check(tcp_server, "/health", "example.test", timeout=2, retries=5, delay=0.01)
    assert result["ok"] and result["status"] == 200 and result["attempts"] == 3
    assert result["body"] == "/health example.test"


def test_gives_up_after_the_retries(tcp_server):
    Handler.answers = [500] * 10
    result = _health.check(tcp_server, "/health", "h", timeout=2, retries=2, delay=0.01)
    assert not result["ok"] and result["attempts"] == 3 and result["status"] == 500
    assert _health.describe(result).startswith("HTTP 500")


def test_connection_refused_and_a_dead_instance_stop_early():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    calls = []
    result = _health.check("127.0.0.1:%d" % port, "/", "h", timeout=1, retries=50, delay=0.01,
                           still_running=lambda: calls.append(1) or ("dead" if len(calls) > 1 else None))
    assert not result["ok"] and result["attempts"] == 2 and result["error"] == "dead"


def test_unix_socket(tmp_path):
    path = str(tmp_path / "app.sock")
    srv = UnixServer(path, Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        Handler.answers = []
        result = _health.check(path, "/health", "localhost", timeout=2, retries=0, delay=0)
        assert result["ok"] and result["body"] == "/health localhost"
    finally:
        srv.shutdown()
        os.unlink(path)


def test_a_refused_host_stops_at_once_and_says_what_to_set(tcp_server):
    """Django's DisallowedHost answer (400) never changes with retries: one attempt, and the message names
    zipapp_health_host and ALLOWED_HOSTS."""
    Handler.answers = [400] * 10
    result = _health.check(tcp_server, "/health/", "localhost", timeout=2, retries=30, delay=0.5)
    assert not result["ok"] and result["status"] == 400 and result["attempts"] == 1
    assert result["seconds"] < 0.5  # no delay slept: the verdict came with the first answer
    text = _health.describe(result)
    assert text.startswith("HTTP 400") and "zipapp_health_host" in text and "ALLOWED_HOSTS" in text
    assert "Host: localhost" in text


def test_other_client_errors_are_retried(tcp_server):
    Handler.answers = [404, 200]
    result = _health.check(tcp_server, "/health", "h", timeout=2, retries=3, delay=0.01)
    assert result["ok"] and result["attempts"] == 2
