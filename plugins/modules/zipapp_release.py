#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_release
short_description: Download, verify and prepare a zipapp release (shiv cache, config, verified units) without making it live
version_added: 0.1.0
description:
  - Checks that the host can run the app (root, systemd as PID 1, the interpreter exists) before it
    changes anything.
  - Downloads the artifact to a temporary name and verifies its sha256 before anything on the host changes
    (the same code as M(containerless.zipapp.zipapp_artifact)), then renames it into
    C(<root>/<name>/releases/<version>/<name>.pyz). A re-run of the same version downloads nothing; an existing
    version with another sha256 is refused (versions are immutable).
  - Refuses a zipapp that the interpreter cannot run, before anything else. Every bundled distribution must
    have a wheel tag the interpreter supports and a C(Requires-Python) it satisfies (the checks of
    M(containerless.zipapp.zipapp_info)); the message names the distributions and the interpreter's version.
  - Writes the release record (C(release.json)) once, pre-extracts a shiv zipapp's cache as root into the
    read-only cache root C(<root>/<name>/shiv) by calling the zipapp's own bootstrap (the app never runs) and
    compiles its pycs (reusing the live release's pycs for files that did not change), with modes that leave
    it readable by the service's dynamic user whatever root's umask is.
  - A C(.pex) (recognised by its C(PEX-INFO), whatever its name) gets a venv built once inside the release,
    C(<root>/<name>/releases/<version>/venv-<hash of the interpreter's path>) (one per interpreter), by the pex's own tools (C(PEX_TOOLS=1 python app.pex venv);
    the pex must be built with C(--include-tools)), with the distributions copied in and compiled; the start
    scripts run the venv's C(pex) script, with C(PEX_ROOT) in the unit's state directory.
  - Writes the release's config (env file, start script, credentials, unit files) into a new
    C(config.<N>) directory when it differs from the release's current config, and validates the unit
    files with C(systemd-analyze verify), treating any warning as an error.
  - Nothing live changes; M(containerless.zipapp.zipapp_swap) makes the release live.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - containerless.zipapp.app
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the env file, start script and units against the live release's; credential values are never shown.
  platform:
    platforms: posix
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  version:
    description: Version of the release.
    type: str
    required: true
  url:
    description:
      - C(http://), C(https://) or C(file:///) URL of the artifact. Without it the module only looks whether the
        host has the artifact and reports RV(missing) (used by the action plugin for O(download_on=controller)).
    type: str
  checksum:
    description: C(sha256:<64 hex digits>) or C(sha256:<url of a SHA256SUMS file>).
    type: str
    required: true
  download_on:
    description: V(target) downloads on the host; V(controller) downloads once on the controller (action plugin).
    type: str
    choices: [target, controller]
    default: target
  controller_cache:
    description: Controller cache directory for O(download_on=controller).
    type: str
    default: ~/.cache/containerless.zipapp
  timeout:
    description: Timeout in seconds of each network operation of the download.
    type: int
    default: 60
  headers:
    description: HTTP headers for the download. Never logged.
    type: dict
    default: {}
  validate_certs:
    description: Whether to validate TLS certificates.
    type: bool
    default: true
  source_url:
    description: The URL recorded as the source when O(url) is a local copy. Defaults to O(url).
    type: str
  lock_owner:
    description:
      - Who deploys (controller host, pid, run id, user, version); set by the action plugin. The module takes
        the app's deploy lock for that run before it changes anything and keeps it for the steps that follow
        (released by M(containerless.zipapp.zipapp_lock)); when the release is already live and in sync it
        releases the lock itself.
    type: dict
  lock_timeout:
    description: Seconds to wait for a deploy lock held by another run.
    type: int
    default: 0
  lock_lease:
    description: Seconds after which a lock is considered abandoned and broken with a warning.
    type: int
    default: 3600
  lock_break:
    description: Break a lock held by another run (with a warning).
    type: bool
    default: false
  lock_dead_owner:
    description: Run id of a lock owner the controller found dead; that lock is broken (set by the action plugin).
    type: str
  deployed_by:
    description: Who deploys (recorded), for example C(user@controller).
    type: str
    default: unknown
  python:
    description: Interpreter that runs the zipapp (and extracts its shiv cache).
    type: path
    required: true
  args:
    description: Arguments after the zipapp in the start script.
    type: list
    elements: str
    default: []
  env:
    description: Environment written to the release's C(EnvironmentFile=) (mode 0600).
    type: dict
    default: {}
  secrets:
    description: Credentials written to C(credentials/<id>) (mode 0600, directory 0700).
    type: dict
    default: {}
  secrets_env:
    description: Credentials to export into the environment of the app, as C(ENV_NAME) to credential id.
    type: dict
    default: {}
  scripts:
    description:
      - Start scripts and their arguments after the zipapp; C(start) is the web process's, C(start.<process>)
        another process's or a timer's. Defaults to a C(start) script with O(args).
    type: dict
    default: {}
  process_env:
    description: A process's own environment, written to C(env.<process>) next to the app's C(env).
    type: dict
    default: {}
  manifest:
    description:
      - What the switch does with the units (C(enable), C(restart), C(timers), C(socket), C(web)), stored with the
        config as C(manifest.json). Defaults to the web service and its socket.
    type: dict
  units:
    description: Unit file name to unit file text, stored with the config and verified.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Prepare release 1.4.2 of demoapp
  containerless.zipapp.zipapp_release:
    name: demoapp
    version: "1.4.2"
    url: https://artifacts.example.com/demoapp/demoapp-1.4.2.pyz
    checksum: sha256:https://artifacts.example.com/demoapp/SHA256SUMS
    python: /usr/bin/python3
    args: [serve]
    env:
      DJANGO_SETTINGS_MODULE: demoapp.settings
    units:
      demoapp.service: "{{ lookup('ansible.builtin.template', 'zipapp.service.j2') }}"
  register: release
"""

RETURN = r"""
sha256:
  description: The verified sha256 of the artifact.
  returned: always
  type: str
interpreter:
  description: The interpreter the zipapp was checked against (when the release is new on the host).
  returned: when checked
  type: str
downloaded:
  description: Whether the artifact was downloaded now.
  returned: always
  type: bool
missing:
  description: Without O(url), whether the host lacks the artifact (nothing else was done).
  returned: when O(url) is not given
  type: bool
config:
  description: The config dir of the release that matches the given config (to be made live by zipapp_swap).
  returned: always
  type: str
  sample: config.2
config_changed:
  description: Whether a new config dir was written (or would be, in check mode).
  returned: always
  type: bool
live_before:
  description:
    - The live version and its config dir when the module started (what a failed deploy returns to), and the
      config dir the deployed version's C(config) link pointed to then (C(target_config)).
  returned: always
  type: dict
lock:
  description: The deploy lock this run holds (C(run_id)), or null in check mode and when in sync.
  returned: always
  type: dict
locked:
  description: True when another run holds the deploy lock (the task then fails with its owner in RV(lock_held_by)).
  returned: when locked
  type: bool
lock_held_by:
  description: The owner of the lock that kept this run out.
  returned: when locked
  type: dict
in_sync:
  description:
    - Whether the release is live, unchanged and running exactly as installed, so that
      M(containerless.zipapp.zipapp_swap) has nothing to do.
  returned: always
  type: bool
release_created:
  description: Whether the release record was written now (first deploy of this version on the host).
  returned: always
  type: bool
shiv:
  description: The shiv cache of the release, null for a zipapp that is not a shiv.
  returned: always
  type: dict
  contains:
    cache:
      description: Cache directory (C(<root>/<name>/shiv/<name>.pyz_<build_id>)).
      type: str
    build_id:
      description: shiv build id.
      type: str
    extracted:
      description: Whether it was extracted now.
      type: bool
kind:
  description: What the artifact is, C(shiv), C(pex) or C(zipapp) (a plain zipapp with a C(__main__.py)).
  returned: success
  type: str
  sample: shiv
pex:
  description: The venv of a pex release, null for any other kind.
  returned: success
  type: dict
  contains:
    venv:
      description: The venv directory inside the release.
      type: str
    build_id:
      description: The pex's C(pex_hash).
      type: str
    built:
      description: Whether the venv was built now.
      type: bool
"""

import json
import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _lock, _shiv, _systemd, _zipapp_info
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    ArtifactError,
    ensure,
    makedirs,
    parse_checksum,
    sha256_file,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import EnvFileError, render_env_file
from ansible_collections.containerless.zipapp.plugins.module_utils._switch import Switch
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import (
    check_name,
    check_secrets,
    check_version,
)


def check_compatible(module, pyz, python):
    """Refuse a zipapp whose bundled wheels or Requires-Python the interpreter cannot satisfy."""
    try:
        info = _zipapp_info.inspect_archive(pyz)
    except _zipapp_info.ZipappInfoError as e:
        module.fail_json(msg=str(e))
    rc, out, err = module.run_command(_zipapp_info.probe_command(python))
    if rc != 0:
        module.fail_json(msg="zipapp_python=%s does not run (rc=%d): %s; nothing live was changed"
                         % (python, rc, (err or out).strip()[-500:]))
    probe = _zipapp_info.parse_probe(out)
    verdict = _zipapp_info.check(info, probe)
    label = _zipapp_info.interpreter_label(probe)
    if not verdict["compatible"]:
        module.fail_json(msg="%s cannot run on %s (%s): %s; nothing live was changed"
                         % (os.path.basename(pyz), python, label, "; ".join(verdict["problems"])),
                         problems=verdict["problems"])
    return label


def inspect_zipapp(module, pyz):
    try:
        return _shiv.inspect(pyz)
    except _shiv.ZipappError as e:
        module.fail_json(msg=str(e))


def prepare_pex(module, layout, version, python, info):
    """Build the pex's venv inside the release (once); return (venv info, changed)."""
    release_dir = layout.release(version)
    venv = _shiv.pex_venv_dir(release_dir, python)
    marker = _shiv.pex_venv_marker(venv)
    result = dict(venv=venv, build_id=info["build_id"], built=False)
    if os.path.isfile(os.path.join(venv, "pex")) and os.path.exists(marker):
        return result, False
    if not info.get("includes_tools"):
        module.fail_json(msg="%s is a pex built without its tools: build it with `pex --include-tools ...` so "
                             "the release's venv can be built from it (nothing live was changed)"
                         % layout.pyz(version))
    result["built"] = True
    if module.check_mode:
        return result, True
    pex_root = venv + ".pex-root"
    for leftover in (venv, pex_root):  # of a run that was killed
        shutil.rmtree(leftover, ignore_errors=True)
    t0 = time.time()
    rc, out, err = module.run_command(_shiv.pex_venv_command(python, layout.pyz(version), venv),
                                      environ_update=_shiv.pex_venv_env(pex_root), cwd=release_dir)
    result["venv_seconds"] = round(time.time() - t0, 2)
    shutil.rmtree(pex_root, ignore_errors=True)
    if rc != 0 or not os.path.isfile(os.path.join(venv, "pex")):
        shutil.rmtree(venv, ignore_errors=True)
        module.fail_json(msg="building the venv of the pex %s with %s failed (rc=%d): %s; nothing live was changed"
                         % (layout.pyz(version), python, rc, (err or out).strip()[-2000:]))
    _shiv.make_readable(venv)
    rel.write_file(marker, json.dumps({"python": python, "seconds": result["venv_seconds"]}) + "\n", 0o644)
    return result, True


def prepare_shiv(module, layout, version, python, info):
    """Pre-extract the shiv cache of the pyz and compile it; return (info, changed)."""
    pyz = layout.pyz(version)
    if info["kind"] != "shiv":
        return None, False
    cache = _shiv.cache_dir(layout.shiv, pyz, info["build_id"])
    shiv = dict(cache=cache, build_id=info["build_id"], extracted=False)
    site_packages = os.path.join(cache, "site-packages")
    if os.path.isdir(site_packages) and os.path.exists(_shiv.compiled_marker(cache)):
        return shiv, False
    shiv["extracted"] = True
    if module.check_mode:
        return shiv, True
    makedirs(layout.shiv, 0o755)
    t0 = time.time()
    rc, out, err = module.run_command(_shiv.extract_command(python, pyz, layout.shiv))
    shiv["extract_seconds"] = round(time.time() - t0, 2)
    if rc != 0:
        module.fail_json(msg="pre-extracting the shiv cache of %s with %s failed (rc=%d): %s"
                         % (pyz, python, rc, (err or out).strip()[-2000:]))
    # the live release's pycs serve every file that did not change
    live = rel.link_version(layout, layout.current)
    live_cache = (rel.read_record(layout, live) or {}).get("shiv_cache") if live else None
    previous = os.path.join(live_cache, "site-packages") if live_cache and live_cache != cache else None
    t0 = time.time()
    rc, out, err = module.run_command(_shiv.compile_command(python, site_packages, previous))
    shiv["compile_seconds"] = round(time.time() - t0, 2)
    if rc != 0:
        module.fail_json(msg="compiling the shiv cache %s with %s failed (rc=%d): %s"
                         % (cache, python, rc, (err or out).strip()[-2000:]))
    try:
        shiv["pyc"] = json.loads(out)
    except ValueError:
        shiv["pyc"] = None
    _shiv.make_readable(cache)
    rel.write_file(_shiv.compiled_marker(cache), out or "{}\n", 0o644)
    return shiv, True


def host_problems(python):
    """What keeps this host from running the app (checked before anything changes)."""
    problems = []
    if os.geteuid() != 0:
        problems.append("the deploy must run as root on the host: set become: true")
    if not _systemd.booted():
        problems.append("systemd is not PID 1 on this host (no /run/systemd/system)")
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        problems.append("zipapp_python=%s is not an executable file on this host" % python)
    return problems


def ensure_artifact(module, layout, version, live_before):
    """Download and verify the artifact into the release (or only look, without url)."""
    p = module.params
    pyz = layout.pyz(version)
    try:
        if not p["url"]:
            expected, sums_url = parse_checksum(p["checksum"])
            if sums_url:
                module.fail_json(msg="without url, checksum must be sha256:<hex>")
            if not (os.path.isfile(pyz) and sha256_file(pyz) == expected):
                # what check mode reports when the artifact is still to be fetched: everything is new
                module.exit_json(changed=False, missing=True, sha256=expected, downloaded=False, in_sync=False,
                                 release_created=True, config_changed=True, config="config.1", shiv=None,
                                 lock=None, live_before=live_before)
            return dict(changed=False, sha256=expected)
        return ensure(p["url"], pyz, p["checksum"], timeout=p["timeout"], headers=p["headers"],
                      validate_certs=p["validate_certs"], mode=0o644, check_mode=module.check_mode)
    except ArtifactError as e:
        msg = str(e) if "nothing was changed" in str(e) else "%s; nothing was changed" % e
        module.fail_json(msg=msg, url=p["source_url"] or p["url"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str", required=True),
            root=dict(type="path", default="/opt/zipapp"),
            url=dict(type="str"),
            checksum=dict(type="str", required=True),
            download_on=dict(type="str", choices=["target", "controller"], default="target"),
            controller_cache=dict(type="str", default="~/.cache/containerless.zipapp"),
            timeout=dict(type="int", default=60),
            headers=dict(type="dict", default={}, no_log=True),
            validate_certs=dict(type="bool", default=True),
            source_url=dict(type="str"),
            deployed_by=dict(type="str", default="unknown"),
            python=dict(type="path", required=True),
            args=dict(type="list", elements="str", default=[]),
            env=dict(type="dict", default={}),
            secrets=dict(type="dict", default={}, no_log=True),
            secrets_env=dict(type="dict", default={}, no_log=False),  # env names -> credential ids, no values
            scripts=dict(type="dict", default={}),
            process_env=dict(type="dict", default={}),
            manifest=dict(type="dict"),
            units=dict(type="dict", default={}),
            lock_owner=dict(type="dict"),
            lock_timeout=dict(type="int", default=0),
            lock_lease=dict(type="int", default=3600),
            lock_break=dict(type="bool", default=False),
            lock_dead_owner=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version") + check_secrets(p["secrets"], "secrets")
    for script in p["scripts"]:
        if script != "start" and not (script.startswith("start.") and check_name(script[6:], "script") == []):
            errors.append("scripts: %r must be start or start.<process>" % script)
    for process in p["process_env"]:
        errors += check_name(process, "process_env key")
    if errors:
        module.fail_json(msg="; ".join(errors))
    problems = host_problems(p["python"])
    if problems:
        module.fail_json(msg="%s (nothing was changed)" % "; ".join(problems), problems=problems)
    layout = rel.Layout(p["root"], p["name"])
    if module.check_mode:
        prepare(module, layout, None)  # reads only: no lock
    lock = take_lock(module) if p["lock_owner"] else None
    # every failure from here on tells the role which lock to release and what to put back
    live_version = rel.link_version(layout, layout.current)
    extra = dict(lock=lock, live_before={"version": live_version,
                                         "config": rel.linked_config(layout, live_version) if live_version else None,
                                         "target_config": rel.linked_config(layout, p["version"])})
    fail_json = module.fail_json
    module.fail_json = lambda **kw: fail_json(**dict(extra, **kw))
    with _lock.StepLock(p["name"], timeout=max(p["lock_timeout"], 600)):
        prepare(module, layout, lock)


def take_lock(module):
    """The run lock for this run (waiting, breaking a dead or expired one); exits when it is held."""
    p = module.params
    owner = dict(p["lock_owner"])
    held = _lock.read_owner(p["name"])
    brk = p["lock_break"] or bool(p["lock_dead_owner"] and held and held.get("run_id") == p["lock_dead_owner"])
    try:
        warnings = _lock.acquire(p["name"], owner, timeout=p["lock_timeout"], lease=p["lock_lease"], break_lock=brk)
    except _lock.LockError as e:
        module.fail_json(msg="%s; set zipapp_lock_timeout to wait, or zipapp_lock_break: true to break it "
                             "(nothing was changed)" % e, locked=True, lock_held_by=e.owner)
    if p["lock_dead_owner"] and brk:
        warnings = ["the run that held the deploy lock of %s is gone from this controller: %s"
                    % (p["name"], "; ".join(warnings))]
    for w in warnings:
        module.warn(w)
    return {"run_id": owner["run_id"]}


def prepare(module, layout, lock):
    p = module.params
    version = p["version"]
    source_url = p["source_url"] or p["url"]

    record = rel.read_record(layout, version)
    live_version = rel.link_version(layout, layout.current)
    live_config = rel.linked_config(layout, live_version) if live_version else None
    live_before = {"version": live_version, "config": live_config, "target_config": rel.linked_config(layout, version)}
    t0 = time.time()
    artifact = ensure_artifact(module, layout, version, live_before)
    download_seconds = round(time.time() - t0, 2)
    sha256 = artifact["sha256"]
    result = dict(changed=artifact["changed"], downloaded=artifact["changed"], sha256=sha256,
                  download_seconds=download_seconds, release_created=False, config_changed=False, shiv=None,
                  live_before=live_before)
    if record and record.get("sha256") != sha256:
        module.fail_json(msg="release %s was recorded with sha256 %s, not %s: a released version is immutable"
                         % (version, record.get("sha256"), sha256))
    if module.check_mode and not os.path.isfile(layout.pyz(version)):
        # check mode before the download: everything would be new
        result.update(changed=True, release_created=True, config_changed=True, config="config.1", in_sync=False,
                      lock=lock)
        module.exit_json(**result)

    if record is None or record.get("python") != p["python"]:
        result["interpreter"] = check_compatible(module, layout.pyz(version), p["python"])
    info = inspect_zipapp(module, layout.pyz(version))
    result["kind"] = info["kind"]
    shiv, shiv_changed = prepare_shiv(module, layout, version, p["python"], info)
    result["shiv"] = shiv
    pex, pex_changed = prepare_pex(module, layout, version, p["python"], info) if info["kind"] == "pex" else (None, False)
    result["pex"] = pex

    if record is None:
        result["release_created"] = True
        if not module.check_mode:
            rel.write_record(layout, version, dict(
                name=p["name"], version=version, sha256=sha256, url=source_url,
                deployed_at=rel.now_utc(), deployed_by=p["deployed_by"], python=p["python"], kind=info["kind"],
                shiv_cache=shiv["cache"] if shiv else None, shiv_build_id=shiv["build_id"] if shiv else None,
            ))

    try:
        env_text = render_env_file(p["env"], header="Managed by containerless.zipapp: %s %s" % (p["name"], version),
                                   var_name="env")
    except EnvFileError as e:
        module.fail_json(msg=str(e))
    pyz = layout.pyz(version)
    header = "Managed by containerless.zipapp: %s %s" % (p["name"], version)
    # a pex runs from its venv (the venv's python and the pex's entry point), a pyz with the interpreter
    command = [os.path.join(pex["venv"], "pex")] if pex else [p["python"], pyz]
    scripts = {}
    for script, args in sorted((p["scripts"] or {"start": p["args"]}).items()):
        scripts[script] = rel.render_start(command, args, header, p["secrets_env"], pex_root=bool(pex))
    run_text = rel.render_start(command, [], header, p["secrets_env"], pex_root=bool(pex))
    process_env = {}
    for process, env in sorted(p["process_env"].items()):
        try:
            process_env[process] = render_env_file(env, header=header, var_name="process_env.%s" % process)
        except EnvFileError as e:
            module.fail_json(msg=str(e))
    manifest = p["manifest"] or rel.default_manifest(p["name"], p["units"])
    wanted = rel.desired_config(env_text, scripts, p["units"], p["secrets"], run_text, process_env, manifest)

    # the release's linked config, or a config staged by an earlier run that never went live
    config_id = None
    linked = rel.linked_config(layout, version)
    candidates = [linked] if linked else []
    linked_n = int(linked.split(".")[1]) if linked else 0
    candidates += ["config.%d" % n for n in reversed(rel.config_numbers(layout.release(version))) if n > linked_n]
    for cid in candidates:
        if not rel.config_differences(rel.read_config(layout.config_dir(version, cid)), wanted):
            config_id = cid
            break

    live_files = rel.read_config(layout.config_dir(live_version, live_config)) if live_config else None

    if config_id is None:
        result["config_changed"] = True
        if module.check_mode:
            numbers = rel.config_numbers(layout.release(version))
            config_id = "config.%d" % ((numbers[-1] + 1) if numbers else 1)
        else:
            config_id = rel.write_config(layout, version, wanted)
            config_dir = layout.config_dir(version, config_id)
            units = sorted(os.path.join(config_dir, "units", u) for u in p["units"])
            t0 = time.time()
            problems = _systemd.verify(module.run_command, units) if units else []
            result["verify_seconds"] = round(time.time() - t0, 2)
            if problems:
                shutil.rmtree(config_dir, ignore_errors=True)
                module.fail_json(msg="systemd-analyze verify found problems in the units (nothing live was changed): "
                                     + " | ".join(problems), problems=problems)

    result["config"] = config_id
    result["changed"] = bool(result["changed"] or result["release_created"] or result["config_changed"] or shiv_changed
                             or pex_changed)
    # a re-run with nothing new: when nothing needs switching either, the role skips zipapp_swap
    result["in_sync"] = not result["changed"] and Switch(module.run_command, layout, version, config_id).plan()["in_sync"]
    if lock and result["in_sync"]:
        _lock.release(p["name"], lock["run_id"])  # nothing follows that could change the host
        lock = None
    result["lock"] = lock
    if module._diff:
        label_old = "%s/%s" % (live_version, live_config) if live_config else "(nothing live)"
        result["diff"] = rel.config_diff(live_files, wanted, label_old, "%s/%s" % (version, config_id))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
