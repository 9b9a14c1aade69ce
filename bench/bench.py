#!/usr/bin/env python3
"""Time deploys of the example app with the collection's role and with a naive baseline, in one run.

Run through bench/run, which prepares the machine and the artifact server and starts a fresh test host
for every round.  In each round, for each variant (their order alternates between rounds): first
deploy of 1.0.0, re-run of 1.0.0, upgrade to 2.0.0 with a loopback probe loop running (one client),
and back to 1.0.0 (with a new config) under load: 8 clients and one more that always keeps a 1-second
request in flight (one of the app's two workers; more would leave none for the 8).
A deploy's time runs from the start of ansible-playbook until both the playbook has ended and the app
answers with the new version (polled every 20 ms), so work a deploy leaves to the first request
(like a cold shiv extraction) is counted.  For each deploy it also records the controller CPU time
(user + sys of ansible-playbook and its children) and the round trips to the host (the `docker exec`
calls of the docker connection, counted by a shim in front of the docker CLI); the upgrade runs with
ansible.posix.profile_tasks, whose per-task times go into the report.
"""

import json
import os
import re
import resource
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# A docker CLI in front of the real one that counts `docker exec` calls (one per module call with
# pipelining) into $ZIPAPP_BENCH_EXEC_LOG.
SHIM = """#!/bin/sh
[ "$1" != exec ] || [ -z "$ZIPAPP_BENCH_EXEC_LOG" ] || echo x >>"$ZIPAPP_BENCH_EXEC_LOG"
exec %s "$@"
"""
VARIANTS = {
    # name: (playbook, port, units that can be the web process: the live one is the one that runs)
    "naive": ("naive.yml", 18201, ["naive.service"]),
    "zipapp": ("zipapp.yml", 18202, ["demoapp@blue.service", "demoapp@green.service"]),
}


def version_at(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=2) as r:
            return json.loads(r.read().decode()).get("version")
    except Exception:
        return None


def main_pid(host, units):
    """The main PID of the web process (of whichever of ``units`` runs), 0 when none runs."""
    out = subprocess.run(["docker", "exec", host, "systemctl", "show", "-P", "MainPID"] + list(units),
                         capture_output=True, text=True).stdout.split()
    return max([int(pid) for pid in out if pid.isdigit()] or [0])


def shim_dir(out_dir):
    """A directory with the counting docker shim, to put first on ansible-playbook's PATH."""
    d = os.path.join(out_dir, "shim")
    os.makedirs(d, exist_ok=True)
    real = subprocess.run(["sh", "-c", "command -v docker"], capture_output=True, text=True).stdout.strip()
    path = os.path.join(d, "docker")
    with open(path, "w") as f:
        f.write(SHIM % real)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return d


def deploy(host, inventory, artifacts, variant, version, log, out_dir, load="", profile=False):
    playbook, port, unit = VARIANTS[variant]
    pid_before = main_pid(host, unit)
    exec_log = os.path.join(out_dir, "exec.log")
    if os.path.exists(exec_log):
        os.unlink(exec_log)
    env = dict(os.environ, PATH=shim_dir(out_dir) + os.pathsep + os.environ["PATH"], ZIPAPP_BENCH_EXEC_LOG=exec_log)
    if profile:
        env["ANSIBLE_CALLBACKS_ENABLED"] = "ansible.posix.profile_tasks"
        env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] = "all"
        env["PROFILE_TASKS_SORT_ORDER"] = "none"
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", inventory, os.path.join(HERE, playbook),
         "-e", "version=%s" % version, "-e", "artifacts=%s" % artifacts, "-e", "load=%s" % load],
        capture_output=True, text=True, env=env)
    t_play = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    log.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise SystemExit("%s %s: ansible-playbook failed" % (variant, version))
    deadline = time.monotonic() + 120
    while version_at(port) != version:
        if time.monotonic() > deadline:
            raise SystemExit("%s %s never answered" % (variant, version))
        time.sleep(0.02)
    t_ready = time.monotonic() - t0
    recap = re.search(r"changed=(\d+)", proc.stdout.split("PLAY RECAP")[-1])
    with open(exec_log) if os.path.exists(exec_log) else open(os.devnull) as f:
        round_trips = len(f.read().split())
    result = {
        "seconds": round(max(t_play, t_ready), 2),
        "play_seconds": round(t_play, 2),
        "cpu_seconds": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
        "round_trips": round_trips,
        "changed": int(recap.group(1)) if recap else None,
        "restarted": main_pid(host, unit) != pid_before,
    }
    if profile:
        result["profile"] = profile_lines(proc.stdout)
    return result


def profile_lines(stdout):
    """(task, seconds) from profile_tasks' summary at the end of the output, in play order."""
    summary = stdout.split("PLAY RECAP")[-1]
    tasks = []
    for line in summary.splitlines():
        m = re.match(r"^(.*?) -+ (\d+\.\d+)s$", line.strip())
        if m:
            tasks.append((m.group(1).strip(), float(m.group(2))))
    return tasks


def with_probe(port, fn, csv_path=None, clients=1, slow=False):
    stop = tempfile.mktemp(prefix="zipapp-probe-stop-")
    probe = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "probe.py"), "--url", "http://127.0.0.1:%d/health" % port,
         "--stop-file", stop, "--interval", "0.02", "--max-seconds", "240", "--clients", str(clients)]
        + (["--slow-url", "http://127.0.0.1:%d/slow?ms=1000" % port, "--slow-clients", "1"] if slow else [])
        + (["--csv", csv_path] if csv_path else []),
        stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the probe sees the old release first
    try:
        result = fn()
        time.sleep(1.0)  # and the new one for a while
    finally:
        open(stop, "w").close()
        out, _ = probe.communicate(timeout=60)
        os.unlink(stop)
    return result, json.loads(out)


def exposure(host, units):
    out = subprocess.run(["docker", "exec", host, "systemd-analyze", "security", "--no-pager", units[0]],
                         capture_output=True, text=True).stdout
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    return float(m.group(1)) if m else None


def run_round(host, inventory, artifacts, out_dir, order, number=1):
    """One round on a fresh host: each variant's first deploy, re-run and upgrade."""
    results = {}
    with open(os.path.join(out_dir, "ansible.log"), "a") as log:
        for variant in order:
            port = VARIANTS[variant][1]
            r = results[variant] = {}
            r["first"] = deploy(host, inventory, artifacts, variant, "1.0.0", log, out_dir, profile=True)
            r["rerun"] = deploy(host, inventory, artifacts, variant, "1.0.0", log, out_dir)
            r["upgrade"], r["probe"] = with_probe(
                port, lambda: deploy(host, inventory, artifacts, variant, "2.0.0", log, out_dir, profile=True),
                os.path.join(out_dir, "probe-%s-round%s.csv" % (variant, number)))
            r["loaded"], r["load_probe"] = with_probe(
                port, lambda: deploy(host, inventory, artifacts, variant, "1.0.0", log, out_dir, load=str(number)),
                clients=8, slow=True)
            r["exposure"] = exposure(host, VARIANTS[variant][2])
    return results


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def report(rounds, out_dir):
    """Medians over the rounds (seconds, latency); sums of failed requests; worst outage."""
    def med(variant, phase, key="seconds"):
        return round(median([r[variant][phase][key] for r in rounds]), 2)

    def total(variant, key):
        return sum(r[variant]["probe"][key] for r in rounds)

    def worst(variant, key):
        return max(r[variant]["probe"][key] for r in rounds)

    def ratio(a, b):
        return "%.2fx" % (b / a) if a else "-"

    def load_total(variant, key, sub=None):
        probes = [r[variant]["load_probe"] for r in rounds]
        probes = [p.get(sub, {}) for p in probes] if sub else probes
        return "%d of %d" % (sum(p.get("failed", 0) for p in probes), sum(p.get("sent", 0) for p in probes))

    n = {p: med("naive", p) for p in ("first", "upgrade", "rerun")}
    z = {p: med("zipapp", p) for p in ("first", "upgrade", "rerun")}
    rows = [
        ("first deploy (s, median)", n["first"], z["first"], ratio(n["first"], z["first"]), "<= 0.7x"),
        ("upgrade (s, median)", n["upgrade"], z["upgrade"], ratio(n["upgrade"], z["upgrade"]), "<= 0.6x"),
        ("re-run, same version (s, median)", n["rerun"], z["rerun"], ratio(n["rerun"], z["rerun"]), "<= 0.4x"),
        ("controller CPU per upgrade (s, median)", med("naive", "upgrade", "cpu_seconds"),
         med("zipapp", "upgrade", "cpu_seconds"),
         ratio(med("naive", "upgrade", "cpu_seconds"), med("zipapp", "upgrade", "cpu_seconds")), ""),
        ("round trips to the host: upgrade / re-run", "%d / %d" % (med("naive", "upgrade", "round_trips"),
                                                                med("naive", "rerun", "round_trips")),
         "%d / %d" % (med("zipapp", "upgrade", "round_trips"), med("zipapp", "rerun", "round_trips")), "", "<= 3 / 1"),
        ("re-run changed= (every round)", sorted(set(r["naive"]["rerun"]["changed"] for r in rounds)),
         sorted(set(r["zipapp"]["rerun"]["changed"] for r in rounds)), "", "0"),
        ("re-run restarts (rounds)", sum(r["naive"]["rerun"]["restarted"] for r in rounds),
         sum(r["zipapp"]["rerun"]["restarted"] for r in rounds), "", "0"),
        ("upgrade: failed probe requests", "%d of %d" % (total("naive", "failed"), total("naive", "sent")),
         "%d of %d" % (total("zipapp", "failed"), total("zipapp", "sent")), "", "0"),
        ("upgrade: longest outage (s, worst)", worst("naive", "longest_outage"), worst("zipapp", "longest_outage"),
         "", "0"),
        ("upgrade: max probe latency (s, worst)", worst("naive", "max_latency"), worst("zipapp", "max_latency"),
         "", "<= 0.15"),
        ("under load (8 clients): failed requests", load_total("naive", "failed"), load_total("zipapp", "failed"),
         "", "0"),
        ("under load: requests in flight failed", load_total("naive", "failed", "slow"),
         load_total("zipapp", "failed", "slow"), "", "0"),
        ("under load: answered by the old release after the new one served",
         sum(r["naive"]["load_probe"]["slow"].get("across", 0) for r in rounds),
         sum(r["zipapp"]["load_probe"]["slow"].get("across", 0) for r in rounds), "", "> 0"),
        ("systemd-analyze security", rounds[0]["naive"]["exposure"], rounds[0]["zipapp"]["exposure"], "", "<= 0.9"),
    ]
    width = max(len(r[0]) for r in rows)
    head = "%d rounds, each on a fresh Debian 12 test host, variants alternating" % len(rounds)
    lines = [head, "",
             "| %-*s | %12s | %12s | %7s | %7s |" % (width, "", "naive", "zipapp", "ratio", "target"),
             "|-%s-|-%s-|-%s-|-%s-|-%s-|" % ("-" * width, "-" * 12, "-" * 12, "-" * 7, "-" * 7)]
    lines += ["| %-*s | %12s | %12s | %7s | %7s |" % ((width,) + tuple(str(c) for c in r)) for r in rows]
    for phase in ("first", "upgrade"):
        lines += ["", "Profile of the zipapp %s (ansible.posix.profile_tasks, median over the rounds, s):" %
                  ("first deploy" if phase == "first" else phase), ""]
        lines += ["| %-70s | %6.2f |" % (task[:70], secs) for task, secs in median_profile(rounds, "zipapp", phase)]
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")
    return table


def median_profile(rounds, variant, phase="upgrade"):
    """Per task of a deploy, in play order, the median of its times over the rounds."""
    order, times = [], {}
    for r in rounds:
        for task, secs in r[variant][phase].get("profile", []):
            if task not in times:
                order.append(task)
                times[task] = []
            times[task].append(secs)
    return [(task, median(times[task])) for task in order]


def main():
    command = sys.argv[1]
    if command == "round":
        host, inventory, artifacts, out_dir, number = sys.argv[2:7]
        order = ("naive", "zipapp") if int(number) % 2 else ("zipapp", "naive")
        results = run_round(host, inventory, artifacts, out_dir, order, number)
        with open(os.path.join(out_dir, "round-%s.json" % number), "w") as f:
            json.dump(results, f, indent=2)
        for v in order:
            r = results[v]
            print("round %s %-6s first %5.2f s  re-run %5.2f s  upgrade %5.2f s (cpu %.2f s, %d round trips)  "
                  "failed %d/%d  max latency %.3f s  under load failed %d/%d, in flight failed %d/%d"
                  % (number, v, r["first"]["seconds"], r["rerun"]["seconds"], r["upgrade"]["seconds"],
                     r["upgrade"]["cpu_seconds"], r["upgrade"]["round_trips"],
                     r["probe"]["failed"], r["probe"]["sent"], r["probe"]["max_latency"],
                     r["load_probe"]["failed"], r["load_probe"]["sent"], r["load_probe"]["slow"]["failed"],
                     r["load_probe"]["slow"]["sent"]))
    elif command == "report":
        out_dir = sys.argv[2]
        names = sorted(n for n in os.listdir(out_dir) if n.startswith("round-") and n.endswith(".json"))
        rounds = []
        for name in names:
            with open(os.path.join(out_dir, name)) as f:
                rounds.append(json.load(f))
        print(report(rounds, out_dir))
    else:
        raise SystemExit("usage: bench.py round HOST INVENTORY ARTIFACTS OUT N | report OUT")


if __name__ == "__main__":
    main()
