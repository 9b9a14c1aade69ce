# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release state on a host: layout, release records, per-release config, atomic link swaps, pruning.

This is a private module_utils file: its interface may change without notice.

Layout (``<app>`` is ``<zipapp_root>/<zipapp_name>``)::

    <app>/releases/<version>/<name>.pyz        the verified artifact
    <app>/releases/<version>/release.json      version, sha256, url, time, who deployed
    <app>/releases/<version>/config.<N>/       env (0600), start, run, exec, credentials/ (0700), units/
    <app>/releases/<version>/config -> config.<N>
    <app>/current  -> releases/<version>       the live release (the units reach everything through it)
    <app>/previous -> releases/<version>       the release that was live before
    <app>/shiv/<name>.pyz_<build_id>/           pre-extracted shiv caches (read-only for the service)

Config travels with the release: a new version gets its own config dir, and one rename of
``current`` switches code and config together.  A config-only change of the live version writes
``config.<N+1>`` and switches the release's ``config`` link; ``config.<N>`` is kept for a restore.
"""

import datetime
import errno
import json
import os
import re
import shutil
import tempfile

from ansible_collections.containerless.zipapp.plugins.module_utils import _lock, _shiv
from ansible_collections.containerless.zipapp.plugins.module_utils._fs import fsync_dir

RECORD = "release.json"
CONFIG_RE = re.compile(r"config\.([0-9]+)")
# States a release can be in (reported by zipapp_release_info).
LIVE, PREVIOUS, READY, FAILED, INCOMPLETE = "live", "previous", "ready", "failed", "incomplete"
AUDIT_LOG = "audit.log"


class ReleaseError(Exception):
    """The release tree is not in the state an operation needs; nothing was changed."""


class Layout:
    """Paths of one app's tree."""

    def __init__(self, root, name):
        self.root = root
        self.name = name
        self.app = os.path.join(root, name)
        self.releases = os.path.join(self.app, "releases")
        self.current = os.path.join(self.app, "current")
        self.previous = os.path.join(self.app, "previous")
        self.shiv = os.path.join(self.app, "shiv")

    def release(self, version):
        return os.path.join(self.releases, version)

    def pyz(self, version):
        return os.path.join(self.release(version), self.name + ".pyz")

    def record(self, version):
        return os.path.join(self.release(version), RECORD)

    def config_link(self, version):
        return os.path.join(self.release(version), "config")

    def config_dir(self, version, config_id):
        return os.path.join(self.release(version), config_id)

    def link_target(self, version):
        """Relative target of ``current``/``previous`` for ``version``."""
        return os.path.join("releases", version)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_file(path, data, mode):
    """Write ``data`` to ``path`` atomically (temp file in the same dir, fsync, rename), with ``mode``."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    d = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=d)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(d)


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (IOError, OSError) as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def link_version(layout, link):
    """The version a ``current``/``previous`` link points to, or None."""
    try:
        target = os.readlink(link)
    except OSError:
        return None
    parts = os.path.normpath(target).split(os.sep)
    if len(parts) >= 2 and parts[-2] == "releases":
        return parts[-1]
    return None


def read_record(layout, version):
    data = read_bytes(layout.record(version))
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except ValueError:
        return None


def write_record(layout, version, record):
    write_file(layout.record(version), json.dumps(record, indent=2, sort_keys=True) + "\n", 0o644)


def config_numbers(release_dir):
    try:
        names = os.listdir(release_dir)
    except OSError:
        return []
    numbers = []
    for n in names:
        m = CONFIG_RE.fullmatch(n)
        if m and os.path.isdir(os.path.join(release_dir, n)):
            numbers.append(int(m.group(1)))
    return sorted(numbers)


def linked_config(layout, version):
    """The config id (``config.<N>``) the release's ``config`` link points to, or None."""
    try:
        target = os.readlink(layout.config_link(version))
    except OSError:
        return None
    return target if CONFIG_RE.fullmatch(target) else None


def list_releases(layout):
    """All releases, oldest deploy first, with their state."""
    live = link_version(layout, layout.current)
    previous = link_version(layout, layout.previous)
    try:
        names = sorted(os.listdir(layout.releases))
    except OSError:
        names = []
    out = []
    for version in names:
        if version.startswith(".") or not os.path.isdir(layout.release(version)):
            continue
        record = read_record(layout, version) or {}
        config = linked_config(layout, version)
        complete = bool(record) and config is not None and os.path.isfile(layout.pyz(version))
        if version == live:
            state = LIVE
        elif version == previous:
            state = PREVIOUS
        elif record.get("failed"):
            state = FAILED
        else:
            state = READY if complete else INCOMPLETE
        out.append({
            "version": version,
            "state": state,
            "sha256": record.get("sha256"),
            "url": record.get("url"),
            "deployed_at": record.get("deployed_at"),
            "deployed_by": record.get("deployed_by"),
            "config": config,
            "shiv_cache": record.get("shiv_cache"),
            "failed": record.get("failed"),
        })
    out.sort(key=lambda r: (r["deployed_at"] or "", r["version"]))
    return out


# ---- config ----------------------------------------------------------------------------------


def swap_link(link, target):
    """Point ``link`` at ``target`` with one rename(2); return True when it changed."""
    try:
        if os.readlink(link) == target:
            return False
    except OSError as e:
        if e.errno == errno.EINVAL:
            raise ReleaseError("%s exists and is not a symlink; move it away first" % link)
        if e.errno != errno.ENOENT:
            raise
    d = os.path.dirname(link)
    tmp = os.path.join(d, ".%s.%d.tmp" % (os.path.basename(link), os.getpid()))
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.rename(tmp, link)
    except Exception:
        os.unlink(tmp)
        raise
    fsync_dir(d)
    return True


# ---- pruning ---------------------------------------------------------------------------------

def prune_plan(layout, keep):
    """Releases to remove: the live and previous releases always stay and count towards ``keep``;
    the other slots go to the newest good releases by deploy time (from their records, never
    mtimes).  Of the failed releases only the newest stays, for inspection."""
    releases = list_releases(layout)
    protected = [r for r in releases if r["state"] in (LIVE, PREVIOUS)]
    newest_first = sorted((r for r in releases if r["state"] not in (LIVE, PREVIOUS)),
                          key=lambda r: (r["deployed_at"] or "", r["version"]), reverse=True)
    failed = [r for r in newest_first if r["state"] == FAILED]
    good = [r for r in newest_first if r["state"] != FAILED]
    slots = max(keep - len(protected), 0)
    kept = protected + good[:slots] + failed[:1]
    return good[slots:] + failed[1:], kept


def newest_good(layout, exclude=()):
    """The newest complete, not failed release by deploy time, other than ``exclude``."""
    for r in sorted(list_releases(layout), key=lambda r: (r["deployed_at"] or "", r["version"]), reverse=True):
        if r["version"] not in exclude and not r["failed"] and r["config"] and r["state"] != INCOMPLETE:
            return r["version"]
    return None


def mark_failed(layout, version, reason):
    """Record that ``version`` failed: it stays for inspection and is never picked as 'previous'."""
    record = read_record(layout, version)
    if record is None:
        return False
    record["failed"] = {"at": now_utc(), "reason": reason[:2000]}
    write_record(layout, version, record)
    return True


def mark_healthy(layout, version, config, check=None):
    """Record that ``config`` of ``version`` passed its checks and served: it needs no canary again.

    ``check`` (path, host, address, timeout, retries, delay, settle) is the health check it passed: a rollback
    to this release that names no check of its own reuses it, so going back needs nothing but the app's name.
    """
    record = read_record(layout, version)
    if record is None or (config in (record.get("healthy") or {}) and (check is None or record.get("check") == check)):
        return False
    record.setdefault("healthy", {}).setdefault(config, now_utc())
    if check is not None:
        record["check"] = check
    write_record(layout, version, record)
    return True


def recorded_check(layout, version):
    """The health check ``version`` last passed on this host (``mark_healthy``), or None."""
    check = (read_record(layout, version) or {}).get("check")
    return check if isinstance(check, dict) else None


def is_healthy(layout, version, config):
    return config in ((read_record(layout, version) or {}).get("healthy") or {})


def clear_failed(layout, version):
    record = read_record(layout, version)
    if record and record.pop("failed", None):
        write_record(layout, version, record)
        return True
    return False


def append_audit(layout, entry):
    """Append one JSON line to ``<app>/audit.log`` (when the app has a tree on this host)."""
    if not os.path.isdir(layout.app):
        return False
    line = json.dumps(dict(entry, time=now_utc()), sort_keys=True) + "\n"
    fd = os.open(os.path.join(layout.app, AUDIT_LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.fchmod(fd, 0o640)
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def end_failed(layout, run_id, entry, failed_version=None):
    """The end of a deploy step that failed with the deploy lock held: the failed release (one this run
    created) is marked failed, one audit line records the failure, and the lock is given back."""
    if failed_version:
        mark_failed(layout, failed_version, entry.get("message") or "the deploy failed")
    owner = _lock.read_owner(layout.name)
    if owner and owner.get("run_id") == run_id:
        entry = dict(entry, user=owner.get("user"), controller=owner.get("host"))
    append_audit(layout, dict(entry, run_id=run_id))
    _lock.release(layout.name, run_id)


def prune(layout, keep, check_mode=False):
    """Remove releases beyond ``keep`` and their shiv caches; return the removed versions."""
    doomed, kept = prune_plan(layout, keep)
    kept_caches = set(r["shiv_cache"] for r in kept if r["shiv_cache"])
    removed = []
    for r in doomed:
        removed.append(r["version"])
        if check_mode:
            continue
        cache = r["shiv_cache"]
        if cache and cache not in kept_caches and os.path.dirname(cache) == layout.shiv:
            shutil.rmtree(cache, ignore_errors=True)
            for extra in (_shiv.lock_file(cache), _shiv.compiled_marker(cache)):
                if os.path.lexists(extra):
                    os.unlink(extra)
        # rename first so a half-removed release never looks like a release
        doomed_dir = os.path.join(layout.releases, ".removing-%s" % r["version"])
        os.rename(layout.release(r["version"]), doomed_dir)
        shutil.rmtree(doomed_dir, ignore_errors=True)
    if not check_mode and os.path.isdir(_shiv.store_dir(layout.shiv)):
        # the earlier layout's store: what no cache left links to goes (the whole store, once converted)
        _shiv.collect_store(layout.shiv, _shiv.caches(layout.shiv))
    return removed


def prune_configs(layout, version, check_mode=False):
    """Keep the linked config of a release and the one before it; remove older ones."""
    linked = linked_config(layout, version)
    numbers = config_numbers(layout.release(version))
    if linked is None:
        return []
    current_n = int(linked.split(".")[1])
    older = [n for n in numbers if n < current_n]
    keep = set([current_n] + older[-1:])
    removed = ["config.%d" % n for n in numbers if n not in keep]
    if not check_mode:
        for cid in removed:
            shutil.rmtree(layout.config_dir(version, cid), ignore_errors=True)
    return removed
