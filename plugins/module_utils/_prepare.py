# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preparing one release on the host for zipapp_release: the artifact, its record, the shiv cache or pex venv,
the config; then the plan of the switch.

This is a private module_utils file: its interface may change without notice.
"""

import json
import os
import shutil
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import (
    _archive,
    _compatibility,
    _config,
    _exec,
    _fs,
    _interpreter,
    _lock,
    _pex,
    _plan,
    _pyc,
    _shiv,
    _systemd,
    _units,
)
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    ArtifactError,
    ensure,
    makedirs,
    parse_checksum,
    sha256_file,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import EnvFileError, render_env_file
from ansible_collections.containerless.zipapp.plugins.module_utils._runtime import RuntimeUnits
from ansible_collections.containerless.zipapp.plugins.module_utils._switch import Switch, needs_canary


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


def warmed(processes, paths, host):
    """``processes`` with ``ZIPAPP_WARMUP_PATHS``/``ZIPAPP_WARMUP_HOST`` in the web process's environment: the app's
    server requests these paths in-process in each new worker before it accepts a connection (see
    docs/your-app.md), so that the first requests after a handover find the app loaded."""
    if not paths or "web" not in processes:
        return processes
    web = dict(processes["web"])
    web["env"] = dict(web.get("env") or {}, ZIPAPP_WARMUP_PATHS=" ".join(paths), ZIPAPP_WARMUP_HOST=host)
    return dict(processes, web=web)


class Release:
    """Prepares one release on the host: artifact, record, cache or venv, config; then plans the switch."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.layout = rel.Layout(self.p["root"], self.p["name"])
        self.version = self.p["version"]
        self.check = module.check_mode
        self.lock = None
        self.sha256 = None
        live = rel.link_version(self.layout, self.layout.current)
        self.live_before = {"version": live, "config": rel.linked_config(self.layout, live) if live else None,
                            "target_config": rel.linked_config(self.layout, self.version)}
        self.result = dict(changed=False, release_created=False, config_changed=False, shiv=None, pex=None,
                           live_before=self.live_before, lock=None, plan=None, seconds={})
        self.t0 = self.started = time.time()

    def lap(self, phase):
        """Note how long ``phase`` took (since the last lap)."""
        now = time.time()
        self.result["seconds"][phase] = round(now - self.t0, 3)
        self.t0 = now

    def fail(self, msg, **kw):
        """Fail; once the lock is held, record the failure in the audit log and give the lock back first."""
        finished = False
        if self.lock and not self.check:
            rel.end_failed(self.layout, self.lock["run_id"],
                           dict(action="deploy", version=self.version, sha256=self.sha256 or "", result="failed",
                                serving=self.live_before["version"], message=msg),
                           failed_version=self.version if self.result["release_created"] else None)
            finished = True
        self.module.fail_json(msg=msg, **dict(self.result, finished=finished, **kw))

    # ---- artifact -----------------------------------------------------------------------------

    def artifact(self):
        p, pyz = self.p, self.layout.pyz(self.version)
        try:
            if not p["url"]:
                expected, sums_url = parse_checksum(p["checksum"])
                if sums_url:
                    self.fail("without url, checksum must be sha256:<hex>")
                if not (os.path.isfile(pyz) and sha256_file(pyz) == expected):
                    # what check mode reports when the artifact is still to be fetched: everything is new
                    self.module.exit_json(**dict(self.result, missing=True, sha256=expected, downloaded=False,
                                                 in_sync=False, release_created=True, config_changed=True,
                                                 config="config.1"))
                return dict(changed=False, sha256=expected)
            return ensure(p["url"], pyz, p["checksum"], timeout=p["timeout"], headers=p["headers"],
                          validate_certs=p["validate_certs"], mode=0o644, check_mode=self.check)
        except ArtifactError as e:
            msg = str(e) if "nothing was changed" in str(e) else "%s; nothing was changed" % e
            self.fail(msg, url=p["source_url"] or p["url"])

    def inspect(self, record):
        """The artifact's kind and build id: from the release record when the artifact was inspected and
        checked against this interpreter before, else from the archive (and then checked)."""
        pyz, python = self.layout.pyz(self.version), self.p["python"]
        if record and record.get("python") == python and record.get("kind"):
            return {"kind": record["kind"], "build_id": record.get("build_id") or record.get("shiv_build_id"),
                    "includes_tools": record.get("includes_tools", True)}
        try:
            info = _archive.inspect_archive(pyz)
        except _archive.ZipappInfoError as e:
            self.fail(str(e))
        rc, out, err = self.module.run_command(_interpreter.probe_command(python))
        if rc != 0:
            self.fail("zipapp_python=%s does not run (rc=%d): %s; nothing live was changed"
                      % (python, rc, (err or out).strip()[-500:]))
        probe = _interpreter.parse_probe(out)
        verdict = _compatibility.check(info, probe)
        self.result["interpreter"] = label = _interpreter.interpreter_label(probe)
        if not verdict["compatible"]:
            self.fail("%s cannot run on %s (%s): %s; nothing live was changed"
                      % (os.path.basename(pyz), python, label, "; ".join(verdict["problems"])),
                      problems=verdict["problems"])
        return info

    def convert_caches(self, shiv):
        """Give the caches of the earlier layout (symlinks into ``shiv/.shared``) real directories of hard links
        (``_shiv.convert()``), before the new cache links from the live one; then let the store go once nothing
        needs it (``_shiv.collect_store()``).  Returns whether a cache changed."""
        lay = self.layout
        if self.check:
            todo = _shiv.old_layout(lay.shiv)
            if todo:
                shiv["converted"] = todo
            return bool(todo)
        t0 = time.time()
        try:
            done = _shiv.convert(lay.shiv)
            _shiv.collect_store(lay.shiv, _shiv.caches(lay.shiv))
        except (IOError, OSError) as e:
            self.fail("converting the shiv caches of %s to hard links failed: %s; every release still runs from "
                      "its cache as before, and the next deploy goes on with it" % (lay.name, e))
        if done["converted"] or done["kept"]:
            shiv.update(converted=done["converted"], convert_seconds=round(time.time() - t0, 2))
        if done["kept"]:  # they keep their symlinks into the store, which work as before
            shiv["not_converted"] = done["kept"]
            self.module.warn("the shiv caches %s keep their symlinks into %s: this host cannot exchange a "
                             "directory for a symlink in one step (renameat2), or the store lacks what they name"
                             % (", ".join(done["kept"]), _shiv.store_dir(lay.shiv)))
        return bool(done["converted"])

    def prepare_shiv(self, info):
        """Pre-extract the shiv cache, linking what equals the live release's, and compile it."""
        lay, pyz = self.layout, self.layout.pyz(self.version)
        cache = _shiv.cache_dir(lay.shiv, pyz, info["build_id"])
        shiv = dict(cache=cache, build_id=info["build_id"], extracted=False)
        converted = self.convert_caches(shiv)
        marker = _shiv.compiled_marker(cache)
        if os.path.exists(marker) and os.path.isdir(os.path.join(cache, _shiv.PREFIX)):
            return shiv, converted
        if self.check:
            return dict(shiv, extracted=True), True
        makedirs(lay.shiv, 0o755)
        compiler = _pyc.Compiler(self.p["python"])
        t0 = time.time()
        try:
            if os.path.isdir(os.path.join(cache, _shiv.PREFIX)):  # extracted, its compilation cut short
                compiler.start(os.path.join(cache, _shiv.PREFIX))
                compiler.finish()
            else:
                live = self.live_before["version"]
                live_cache = (rel.read_record(lay, live) or {}).get("shiv_cache") if live and live != self.version \
                    else None
                shiv["files"] = _shiv.extract(pyz, cache, lay.pyz(live) if live_cache else None, live_cache,
                                              compiler=compiler)
                shiv["extracted"] = True
        except (IOError, OSError, RuntimeError) as e:
            self.fail("pre-extracting the shiv cache of %s with %s failed: %s; nothing live was changed"
                      % (pyz, self.p["python"], e))
        shiv["seconds"] = round(time.time() - t0, 2)
        shiv["pyc"] = compiler.result
        out = json.dumps(compiler.result or {}) + "\n"
        rel.write_file(marker, out or "{}\n", 0o644)
        return shiv, True

    def prepare_pex(self, info):
        """Build the pex's venv inside the release (once)."""
        lay, python = self.layout, self.p["python"]
        release_dir = lay.release(self.version)
        venv = _pex.venv_dir(release_dir, python)
        marker = _pex.venv_marker(venv)
        result = dict(venv=venv, build_id=info["build_id"], built=False)
        if os.path.isfile(os.path.join(venv, "pex")) and os.path.exists(marker):
            return result, False
        if not info.get("includes_tools"):
            self.fail("%s is a pex built without its tools: build it with `pex --include-tools ...` so the "
                      "release's venv can be built from it (nothing live was changed)" % lay.pyz(self.version))
        result["built"] = True
        if self.check:
            return result, True
        pex_root = venv + ".pex-root"
        for leftover in (venv, pex_root):  # of a run that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        t0 = time.time()
        rc, out, err = self.module.run_command(_pex.venv_command(python, lay.pyz(self.version), venv),
                                               environ_update=_pex.venv_env(pex_root), cwd=release_dir)
        result["venv_seconds"] = round(time.time() - t0, 2)
        shutil.rmtree(pex_root, ignore_errors=True)
        if rc != 0 or not os.path.isfile(os.path.join(venv, "pex")):
            shutil.rmtree(venv, ignore_errors=True)
            self.fail("building the venv of the pex %s with %s failed (rc=%d): %s; nothing live was changed"
                      % (lay.pyz(self.version), python, rc, (err or out).strip()[-2000:]))
        _fs.make_readable(venv)
        rel.write_file(marker, json.dumps({"python": python, "seconds": result["venv_seconds"]}) + "\n", 0o644)
        return result, True

    # ---- config ---------------------------------------------------------------------------------

    def desired(self, pex):
        """The files of the release's config dir, and its units."""
        p, lay = self.p, self.layout
        header = "Managed by containerless.zipapp: %s %s" % (p["name"], self.version)
        try:
            env_text = render_env_file(p["env"], header=header, var_name="env")
        except EnvFileError as e:
            self.fail(str(e))
        process_env_text = {}
        app = _plan.App(p["name"], lay.app, p["unit_description"], secrets=list(p["secrets"]),
                        state_directory=p["state_directory"], ip_address_allow=p["ip_address_allow"],
                        managed=p["managed"])
        processes = warmed(_plan.processes_of(p["processes"], p["args"], p["listen"]), p["warmup_paths"],
                           p["warmup_host"])
        the_plan = _plan.plan(app, processes, p["timers"], p["sandbox"], p["service_extra"], p["stop_timeout"],
                              handover=p["handover"])
        for process, env in sorted(the_plan["process_env"].items()):
            try:
                process_env_text[process] = render_env_file(env, header=header, var_name="process_env.%s" % process)
            except EnvFileError as e:
                self.fail(str(e))
        # a pex runs from its venv (the venv's python and the pex's entry point), a pyz with the interpreter
        command = [os.path.join(pex["venv"], "pex")] if pex else [p["python"], lay.pyz(self.version)]
        scripts = dict((script, _config.render_start(command, args, header, p["secrets_env"], pex_root=bool(pex),
                                                     secrets_file_env=p["secrets_file_env"]))
                       for script, args in sorted(the_plan["scripts"].items()))
        run_text = _config.render_start(command, [], header, p["secrets_env"], pex_root=bool(pex),
                                        secrets_file_env=p["secrets_file_env"])
        spec = _plan.web_spec(the_plan["manifest"])
        exec_text = _exec.render(app, spec, header) if spec else None
        units = _plan.units(app, the_plan)
        return _config.desired_config(env_text, scripts, units, p["secrets"], run_text, process_env_text,
                                      the_plan["manifest"], exec_text), units

    def config(self, wanted, units):
        """The config dir that holds ``wanted``: the release's, one staged before, or a new one."""
        lay, version = self.layout, self.version
        linked = rel.linked_config(lay, version)
        linked_n = int(linked.split(".")[1]) if linked else 0
        candidates = ([linked] if linked else []) + \
            ["config.%d" % n for n in reversed(rel.config_numbers(lay.release(version))) if n > linked_n]
        for cid in candidates:
            if not _config.config_differences(_config.read_config(lay.config_dir(version, cid)), wanted):
                return cid, False
        if self.check:
            numbers = rel.config_numbers(lay.release(version))
            return "config.%d" % ((numbers[-1] + 1) if numbers else 1), True
        config_id = _config.write_config(lay, version, wanted)
        config_dir = lay.config_dir(version, config_id)
        # only the units whose text differs from what systemd has installed need verifying
        changed = sorted(u for u, text in units.items()
                         if rel.read_bytes(os.path.join(_systemd.UNIT_DIR, u)) != text.encode("utf-8"))
        if changed:
            t0 = time.time()
            # the whole set goes in, so that the changed ones find the units they name
            problems = _systemd.verify(self.module.run_command,
                                       sorted(os.path.join(config_dir, "units", u) for u in units))
            self.result["verify_seconds"] = round(time.time() - t0, 2)
            if problems:
                shutil.rmtree(config_dir, ignore_errors=True)
                self.fail("systemd-analyze verify found problems in the units (nothing live was changed): "
                          + " | ".join(problems), problems=problems)
        return config_id, True

    def start_canary(self, config_id):
        """Start the canary without waiting: it boots while the controller moves on to the switch."""
        instance = RuntimeUnits(self.module.run_command, self.layout, self.version, config_id, "canary")
        try:
            instance.install(_units.CANARY)
            self.module.run_command(["systemctl", "start", "--no-block", instance.socket, instance.service])
            self.result["canary_started"] = True
        except (OSError, RuntimeError) as e:  # the switch installs and starts it again, and reports
            self.module.warn("the canary of %s %s did not start early: %s" % (self.p["name"], self.version, e))

    # ---- the whole step -------------------------------------------------------------------------

    def take_lock(self):
        try:
            run_id, warnings = _lock.take(self.p["name"], self.p)
        except _lock.LockError as e:
            self.module.fail_json(msg=str(e), locked=True, lock_held_by=e.owner, **self.result)
        for w in warnings:
            self.module.warn(w)
        self.lock = {"run_id": run_id}
        self.result["lock"] = self.lock

    def prepare(self):
        p, lay, version = self.p, self.layout, self.version
        record = rel.read_record(lay, version)
        self.lap("start")
        artifact = self.artifact()
        self.lap("artifact")
        self.sha256 = sha256 = artifact["sha256"]
        self.result.update(sha256=sha256, downloaded=artifact["changed"])
        if record and record.get("sha256") != sha256:
            self.fail("release %s was recorded with sha256 %s, not %s: a released version is immutable"
                      % (version, record.get("sha256"), sha256))
        if self.check and not os.path.isfile(lay.pyz(version)):
            # check mode before the download: everything would be new
            self.module.exit_json(**dict(self.result, changed=True, release_created=True, config_changed=True,
                                         config="config.1", in_sync=False))
        info = self.inspect(record)
        self.lap("inspect")
        self.result["kind"] = info["kind"]
        shiv, shiv_changed = self.prepare_shiv(info) if info["kind"] == "shiv" else (None, False)
        pex, pex_changed = self.prepare_pex(info) if info["kind"] == "pex" else (None, False)
        self.result.update(shiv=shiv, pex=pex)
        self.lap("cache")
        if record is None:
            self.result["release_created"] = True
            if not self.check:
                rel.write_record(lay, version, dict(
                    name=p["name"], version=version, sha256=sha256, url=p["source_url"] or p["url"],
                    deployed_at=rel.now_utc(), deployed_by=p["deployed_by"], python=p["python"], kind=info["kind"],
                    build_id=info["build_id"], includes_tools=info.get("includes_tools"),
                    shiv_cache=shiv["cache"] if shiv else None, shiv_build_id=shiv["build_id"] if shiv else None))
        elif record.get("python") != p["python"] and not self.check:
            rel.write_record(lay, version, dict(record, python=p["python"], kind=info["kind"], build_id=info["build_id"]))
        wanted, units = self.desired(pex)
        self.lap("render")
        config_id, config_changed = self.config(wanted, units)
        self.lap("config")
        self.result.update(config=config_id, config_changed=config_changed)
        changed = bool(artifact["changed"] or self.result["release_created"] or config_changed or shiv_changed
                       or pex_changed)
        plan = Switch(self.module.run_command, lay, version, config_id).plan() if not self.check or \
            os.path.isdir(lay.config_dir(version, config_id)) else None
        self.result.update(changed=changed, plan=plan, in_sync=bool(plan and not changed and plan["in_sync"]))
        if _exec.host_script_wanted():  # zipapp-exec: a host tool, not part of the release (no switch for it)
            self.result.update(changed=True, host_script=_exec.HOST_SCRIPT_PATH)
            if not self.check:
                if not os.path.isdir(os.path.dirname(_exec.HOST_SCRIPT_PATH)):
                    os.makedirs(os.path.dirname(_exec.HOST_SCRIPT_PATH), 0o755)
                rel.write_file(_exec.HOST_SCRIPT_PATH, _exec.HOST_SCRIPT, 0o755)
        self.lap("plan")
        if self.lock and self.result["in_sync"]:
            _lock.release(p["name"], self.lock["run_id"])  # nothing follows that could change the host
            self.result["lock"] = self.lock = None
        elif plan and not self.check and needs_canary(lay, plan, p["canary"]):
            self.start_canary(config_id)
        if self.module._diff:
            live, live_config = self.live_before["version"], self.live_before["config"]
            live_files = _config.read_config(lay.config_dir(live, live_config)) if live_config else None
            label_old = "%s/%s" % (live, live_config) if live_config else "(nothing live)"
            self.result["diff"] = _config.config_diff(live_files, wanted, label_old, "%s/%s" % (version, config_id))
        self.result["seconds"]["total"] = round(time.time() - self.started, 2)
        self.module.exit_json(**self.result)
