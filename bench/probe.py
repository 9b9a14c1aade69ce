#!/usr/bin/env python3
"""Probe an HTTP endpoint on loopback in a loop and report failures and latency.

    bench/probe.py --url http://127.0.0.1:18202/health --stop-file F [--clients 8]
                   [--slow-url http://127.0.0.1:18202/slow?ms=1000 --slow-clients 2] [--csv out.csv]

Each of --clients threads sends one GET at a time, every --interval seconds. With --slow-url, each of
--slow-clients threads keeps one slow request in flight at all times (the next starts as the last one
ends), so that some request is always being served when a process stops. Everything stops when
--stop-file exists, --max-seconds passed or --max-requests were sent (the loops are always bounded).
Prints one JSON line: sent, failed, max and p50 latency, the longest run of consecutive failures in
seconds (over all clients), the versions seen, and the same counts for the slow requests.
"""

import argparse
import csv
import json
import os
import threading
import time
import urllib.error
import urllib.request


def fetch(url, timeout):
    status, version = 0, None
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status = resp.status
            try:
                version = json.loads(resp.read().decode()).get("version")
            except ValueError:
                pass
    except urllib.error.HTTPError as e:
        status = e.code
    except Exception:  # refused, reset, timed out
        status = 0
    return status, version


def summary(rows):
    failed = [r for r in rows if r[2] != 200]
    outage, run_start = 0.0, None
    for r in sorted(rows):
        if r[2] != 200:
            run_start = r[0] if run_start is None else run_start
            outage = max(outage, r[0] + r[1] - run_start)
        else:
            run_start = None
    latencies = sorted(r[1] for r in rows)
    return {
        "sent": len(rows),
        "failed": len(failed),
        "max_latency": round(latencies[-1], 3) if latencies else None,
        "p50_latency": round(latencies[len(latencies) // 2], 4) if latencies else None,
        "longest_outage": round(outage, 3),
        "versions": sorted(set(r[3] for r in rows if r[3])),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--clients", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--slow-url")
    ap.add_argument("--slow-clients", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--max-requests", type=int, default=50000)
    ap.add_argument("--csv")
    args = ap.parse_args()
    for url in filter(None, (args.url, args.slow_url)):
        if not url.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
            raise SystemExit("probe.py only sends traffic to loopback")
    start = time.monotonic()
    rows, slow_rows = [], []
    lock = threading.Lock()

    def running():
        return (not os.path.exists(args.stop_file) and time.monotonic() - start < args.max_seconds
                and len(rows) + len(slow_rows) < args.max_requests)

    def client(url, out, interval):
        while running():
            t0 = time.monotonic()
            status, version = fetch(url, args.timeout)
            t1 = time.monotonic()
            with lock:
                out.append((t0 - start, t1 - t0, status, version))
            # a refused request returns at once: a failing slow client waits the probe interval too, so that its
            # count stays comparable
            pause = interval if status == 200 else max(interval, args.interval)
            time.sleep(max(0.0, pause - (t1 - t0)))

    threads = [threading.Thread(target=client, args=(args.url, rows, args.interval)) for _ in range(args.clients)]
    if args.slow_url:
        threads += [threading.Thread(target=client, args=(args.slow_url, slow_rows, 0.0))
                    for _ in range(args.slow_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t", "latency", "status", "version"])
            w.writerows(sorted(rows))
    result = summary(rows)
    result["clients"] = args.clients
    if args.slow_url:
        result["slow"] = summary(slow_rows)
        result["slow"]["across"] = across(rows + slow_rows, slow_rows)
    print(json.dumps(result))


def across(rows, slow_rows):
    """Slow requests answered by the release that served first, although they ended after the release that
    served last had answered: they were in flight while the one took over from the other."""
    answered = sorted(r for r in rows if r[2] == 200 and r[3])
    if not answered or answered[0][3] == answered[-1][3]:
        return 0
    old, new = answered[0][3], answered[-1][3]
    first_new = min(r[0] + r[1] for r in answered if r[3] == new)
    return sum(1 for r in slow_rows if r[2] == 200 and r[3] == old and r[0] + r[1] > first_new)


if __name__ == "__main__":
    main()
