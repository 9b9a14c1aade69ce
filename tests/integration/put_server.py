"""A tiny Artifactory/Nexus-like HTTP repository on loopback for the publish tests.

GET/HEAD serve the files under ``root``, PUT stores the request body at the path (creating directories),
and with ``token`` set every request must carry ``Authorization: Bearer <token>`` (401 otherwise).  It
records every request as ``(method, path, authorized)`` and never the header's value.

    server = start(root, token="s3cr3t", ports=range(18750, 18760))
    ... "http://127.0.0.1:%d/repo/" % server.server_address[1]
    server.shutdown()
"""

import http.server
import os
import socketserver
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "zipapp-put/1"

    def log_message(self, fmt, *args):
        pass

    def _path(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        parts = [p for p in rel.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            return None
        return os.path.join(self.server.root, *parts)

    def _authorized(self):
        ok = not self.server.token or self.headers.get("Authorization") == "Bearer " + self.server.token
        self.server.requests.append((self.command, self.path, ok))
        if not ok:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
        return ok

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        if not self._authorized():
            return
        path = self._path()
        if path is None or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def do_PUT(self):
        if not self._authorized():
            return
        path = self._path()
        if path is None or self.server.read_only:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        existed = os.path.exists(path)
        with open(path + ".part", "wb") as f:
            f.write(data)
        os.rename(path + ".part", path)
        self.send_response(200 if existed else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start(root, token=None, ports=range(18750, 18760)):
    """Serve ``root`` on the first free port of ``ports`` on 127.0.0.1, in a thread."""
    last = None
    for port in ports:
        try:
            srv = Server(("127.0.0.1", port), Handler)
            break
        except OSError as e:
            last = e
    else:
        raise last
    srv.root = str(root)
    srv.token = token
    srv.read_only = False
    srv.requests = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
