#!/usr/bin/env python3
"""A real HTTP artifact server on loopback for the tests, the demo and the bench.

    tests/artifact_server.py --dir examples/dist --port 8900 [--pidfile F]

Serves the files of ``--dir`` at ``/<name>`` (and of its subdirectories at ``/<dir>/<name>``), and the same files through fault paths that the
fault-injection tests use:

    /fault/404/<name>        404 Not Found
    /fault/500/<name>        500 Internal Server Error
    /fault/truncate/<name>   announces the full Content-Length, sends half, closes
    /fault/stall/<name>      sends the headers and 1 KiB, then nothing for 600 s
    /fault/slow/<name>       the whole file at about 1 MiB/s

Binds 127.0.0.1 only.  Stop it with ``kill $(cat F)``.
"""

import argparse
import http.server
import os
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "zipapp-artifacts/1"
    directory = "."

    def log_message(self, fmt, *args):  # keep test output quiet; errors still go to stderr
        if self.server.verbose:
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def _file(self, name):
        segments = name.split("/")
        if len(segments) > 2 or any(seg in ("", ".", "..") for seg in segments):
            return None
        path = os.path.join(self.directory, *segments)
        return path if os.path.isfile(path) else None

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        fault = None
        if len(parts) == 3 and parts[0] == "fault":
            fault, name = parts[1], parts[2]
        elif len(parts) <= 2 and parts[0] != "fault":
            name = "/".join(parts)  # a file, or a file in a subdirectory (examples/dist/pex/)
        else:
            return self.send_error(404)
        path = self._file(name)
        if path is None or fault == "404":
            return self.send_error(404)
        if fault == "500":
            return self.send_error(500)
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if head:
            return
        try:
            if fault == "truncate":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif fault == "stall":
                self.wfile.write(data[:1024])
                self.wfile.flush()
                time.sleep(600)
            elif fault == "slow":
                for i in range(0, len(data), 64 * 1024):
                    self.wfile.write(data[i:i + 64 * 1024])
                    time.sleep(1 / 16)
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    verbose = False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=8900)
    ap.add_argument("--pidfile")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    Handler.directory = os.path.abspath(args.dir)
    server = Server(("127.0.0.1", args.port), Handler)
    server.verbose = args.verbose
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    print("serving %s on http://127.0.0.1:%d/" % (Handler.directory, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
