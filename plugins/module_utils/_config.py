# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's config: the files of a ``config.<N>`` dir (env, start scripts, units, credentials), read,
compared, diffed and written.

This is a private module_utils file: its interface may change without notice.
"""

import json
import os
import shlex
import shutil
import tempfile

from ansible_collections.containerless.zipapp.plugins.module_utils._fs import fsync_dir
from ansible_collections.containerless.zipapp.plugins.module_utils._release import config_numbers, read_bytes, write_file


def render_start(command, args, header, secrets_env=None, pex_root=False, secrets_file_env=None):
    """The release's start script: ``exec`` keeps the PID, so socket activation's LISTEN_PID matches.

    ``command`` runs the zipapp (``[python, pyz]``, or a pex venv's ``pex`` script) with ``args``.
    ``secrets_env`` (ENV_NAME -> credential id) exports credentials into the environment, byte for
    byte (trailing newlines included); ``secrets_file_env`` (ENV_NAME -> credential id) exports the path of
    the credential's file instead, for apps that take a secret as a file (the ``*_FILE`` convention): the
    value stays in systemd's private, memory-backed ``$CREDENTIALS_DIRECTORY``.  Every place a release runs
    (its units, the canary, release commands, exec) starts through these scripts.  ``pex_root`` points
    ``PEX_ROOT`` into the unit's state directory, so pex never reaches for an unwritable home or a shared /tmp.
    """
    words = " ".join(shlex.quote(w) for w in list(command) + list(args))
    lines = ["#!/bin/sh"] + ["# " + line for line in header.splitlines()]
    if pex_root:
        lines.append('[ -z "$STATE_DIRECTORY" ] || { PEX_ROOT="${STATE_DIRECTORY%%:*}/.pex"; export PEX_ROOT; }')
    for name, cred in sorted((secrets_env or {}).items()):
        path = '"$CREDENTIALS_DIRECTORY"/%s' % shlex.quote(cred)
        lines += ['[ -r %s ] || { echo "credential %s is missing" >&2; exit 1; }' % (path, cred),
                  "%s=$(cat %s; echo x)" % (name, path),
                  'export %s="${%s%%x}"' % (name, name)]
    for name, cred in sorted((secrets_file_env or {}).items()):
        path = '"$CREDENTIALS_DIRECTORY"/%s' % shlex.quote(cred)
        lines += ['[ -r %s ] || { echo "credential %s is missing" >&2; exit 1; }' % (path, cred),
                  "%s=%s" % (name, path),
                  "export %s" % name]
    lines.append('exec %s "$@"' % words)
    return "\n".join(lines) + "\n"


def desired_config(env_text, scripts, units, secrets, run_text=None, process_env=None, manifest=None,
                   exec_text=None):
    """Files of a config dir: relative path -> (bytes, mode).

    ``scripts`` maps ``start`` (the web process) and ``start.<process>`` to their text: each runs the
    zipapp with that process's arguments; ``run`` runs it with the arguments it is given (release
    commands); ``exec`` runs ``run`` in the release's sandbox (``_exec``).  ``process_env`` maps a
    process to the text of its own env file ``env.<process>``.
    """
    if not isinstance(scripts, dict):  # a single start script
        scripts = {"start": scripts}
    files = {"env": (env_text.encode("utf-8"), 0o600)}
    for script, text in scripts.items():
        files[script] = (text.encode("utf-8"), 0o644)
    if run_text is not None:
        files["run"] = (run_text.encode("utf-8"), 0o644)
    if exec_text is not None:
        files["exec"] = (exec_text.encode("utf-8"), 0o644)
    for process, text in (process_env or {}).items():
        files["env." + process] = (text.encode("utf-8"), 0o600)
    if manifest is not None:
        files[MANIFEST] = ((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"), 0o644)
    for cred_id, value in secrets.items():
        files["credentials/" + cred_id] = (value.encode("utf-8"), 0o600)
    for unit, text in units.items():
        files["units/" + unit] = (text.encode("utf-8"), 0o644)
    return files


DIR_MODES = {"": 0o755, "credentials": 0o700, "units": 0o755}


def read_config(config_dir):
    """Files of an existing config dir: relative path -> (bytes, mode); None when it does not exist."""
    if not os.path.isdir(config_dir):
        return None
    files = {}
    for dirpath, dirnames, filenames in os.walk(config_dir):
        for fname in filenames:
            full = os.path.join(dirpath, fname)
            rel = os.path.relpath(full, config_dir)
            files[rel] = (read_bytes(full), os.stat(full).st_mode & 0o7777)
    return files


MANIFEST = "manifest.json"


def default_manifest(name, units):
    """What a config without a manifest (an older release) needs: its service, and its socket if any."""
    socket = name + ".socket" if name + ".socket" in units else ""
    return {"enable": ([socket] if socket else []) + [name + ".service"], "restart": [name + ".service"],
            "timers": [], "socket": socket, "web": name + ".service"}


def read_manifest(layout, version, config, name):
    """The manifest stored with a config (see ``_plan.plan()``); one written by an older version of the
    collection (no handover, no unit specs) gets the keys it lacks."""
    manifest = None
    data = read_bytes(os.path.join(layout.config_dir(version, config), MANIFEST)) if version and config else None
    if data:
        try:
            manifest = json.loads(data.decode("utf-8"))
        except ValueError:
            manifest = None
    if manifest is None:
        units_dir = os.path.join(layout.config_dir(version, config), "units") if version and config else None
        manifest = default_manifest(name, os.listdir(units_dir) if units_dir and os.path.isdir(units_dir) else [])
    manifest.setdefault("handover", [])
    manifest.setdefault("target", "")
    manifest.setdefault("specs", [])
    return manifest


def config_differences(old, new):
    """Relative paths whose content or mode differ between two config file maps."""
    old = old or {}
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))


def write_config(layout, version, files):
    """Write ``files`` as the release's next ``config.<N>`` (staged, then renamed); return its id."""
    rel_dir = layout.release(version)
    numbers = config_numbers(rel_dir)
    config_id = "config.%d" % ((numbers[-1] + 1) if numbers else 1)
    staging = tempfile.mkdtemp(prefix=".%s." % config_id, dir=rel_dir)
    try:
        os.chmod(staging, DIR_MODES[""])
        for sub in ("credentials", "units"):
            os.mkdir(os.path.join(staging, sub))
            os.chmod(os.path.join(staging, sub), DIR_MODES[sub])
        for rel, (data, mode) in files.items():
            write_file(os.path.join(staging, rel), data, mode)
        os.rename(staging, os.path.join(rel_dir, config_id))
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    fsync_dir(rel_dir)
    return config_id


def config_diff(old, new, label_old, label_new):
    """Ansible diff entries for the readable parts of a config (never credential values)."""
    old = old or {}
    diffs = []
    for rel in sorted(set(old) | set(new)):
        if rel.startswith("credentials/"):
            continue
        before = old.get(rel, (b"", 0))[0]
        after = new.get(rel, (b"", 0))[0]
        if before != after:
            diffs.append({
                "before_header": "%s/%s" % (label_old, rel),
                "after_header": "%s/%s" % (label_new, rel),
                "before": before.decode("utf-8", "replace"),
                "after": after.decode("utf-8", "replace"),
            })
    old_creds = dict((k, v) for k, v in old.items() if k.startswith("credentials/"))
    new_creds = dict((k, v) for k, v in new.items() if k.startswith("credentials/"))
    if old_creds != new_creds:
        def summary(creds, other):
            return "".join("%s%s\n" % (k.split("/", 1)[1], " (changed)" if other.get(k) != v and k in other else "")
                           for k, v in sorted(creds.items()))
        diffs.append({
            "before_header": "%s/credentials (values hidden)" % label_old,
            "after_header": "%s/credentials (values hidden)" % label_new,
            "before": summary(old_creds, new_creds),
            "after": summary(new_creds, old_creds),
        })
    return diffs


# ---- links -----------------------------------------------------------------------------------
