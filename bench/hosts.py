#!/usr/bin/env python3
"""Time a deploy (first and upgrade) of the example app to 1, 3 and 5 hosts in one run, one host at a time
(zipapp_serial: 1, the playbook's default) and all at once (zipapp_serial: N), through the collection's own
playbook. Run through bench/run-hosts, which starts the hosts and the artifact server.

    bench/hosts.py INVENTORY ARTIFACTS OUT_DIR HOST...
"""

import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def deploy(inventory, artifacts, app, version, hosts, serial, log):
    extra = {"zipapp_name": app, "zipapp_version": version, "zipapp_serial": serial,
             "zipapp_url": "%s/demoapp-%s.pyz" % (artifacts, version),
             "zipapp_checksum": "sha256:%s/SHA256SUMS" % artifacts,
             "zipapp_args": ["serve"], "zipapp_listen": "127.0.0.1:{{ app_port }}",
             "zipapp_health_path": "/health",
             "zipapp_secrets": {"django_secret_key": "bench-hosts-key-0123456789abcdefghijklmnopqrstuvwxyz"}}
    t0 = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", inventory, "--forks", "5", "--limit", ",".join(hosts),
                           os.path.join(REPO, "playbooks", "deploy.yml"), "-e", json.dumps(extra)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - t0
    log.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:])
        raise SystemExit("deploy of %s %s to %s failed" % (app, version, hosts))
    return round(seconds, 1)


def main():
    inventory, artifacts, out_dir = sys.argv[1:4]
    hosts = sys.argv[4:]
    rows = []
    with open(os.path.join(out_dir, "hosts-ansible.log"), "w") as log:
        for n in (1, 3, 5):
            for mode, serial in (("one at a time", 1), ("all at once", n)):
                app = "h%d%s" % (n, "s" if serial == 1 else "p")
                first = deploy(inventory, artifacts, app, "1.0.0", hosts[:n], serial, log)
                upgrade = deploy(inventory, artifacts, app, "2.0.0", hosts[:n], serial, log)
                rows.append((n, mode, first, upgrade))
                print("%d host(s), %s: first %.1f s, upgrade %.1f s" % (n, mode, first, upgrade), flush=True)
                # remove the app so the ports are free for the next one
                for h in hosts[:n]:
                    subprocess.run(["docker", "exec", h, "sh", "-c",
                                    "systemctl disable --now %s.socket %s.service %s.target >/dev/null 2>&1; "
                                    "rm -f /etc/systemd/system/%s.*; systemctl daemon-reload" % ((app,) * 4)])
    base = dict(((mode), (first, upgrade)) for n, mode, first, upgrade in rows if n == 1)
    lines = ["| hosts | rollout | first deploy (s) | growth | upgrade (s) | growth |",
             "| --- | --- | --- | --- | --- | --- |"]
    for n, mode, first, upgrade in rows:
        b_first, b_up = base[mode]
        lines.append("| %d | %s | %.1f | %.2fx | %.1f | %.2fx |" % (n, mode, first, first / b_first, upgrade, upgrade / b_up))
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "hosts.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
