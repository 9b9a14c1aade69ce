# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""zipapp_swap's work: the canary, the switch of ``current`` and the rollout of the units, the rollback, and
putting the live release back when a check fails.

This is a private module_utils file: its interface may change without notice.
"""

import contextlib
import os
import time

from ansible_collections.containerless.zipapp.plugins.module_utils import _config, _health, _lock, _units
from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _systemd as sd
from ansible_collections.containerless.zipapp.plugins.module_utils._runtime import RuntimeUnits
from ansible_collections.containerless.zipapp.plugins.module_utils._switch import (
    LIVE_BEFORE,
    Rollout,
    Switch,
    SwitchError,
    deactivate,
    needs_canary,
    running,
    slots,
)


class Failed(Exception):
    def __init__(self, msg, **extra):
        super().__init__(msg)
        self.extra = extra


class Swap:
    def __init__(self, module):
        self.started = time.time()
        self.module = module
        self.p = module.params
        self.run = module.run_command
        self.layout = rel.Layout(self.p["root"], self.p["name"])
        self.name = self.p["name"]
        self.check = module.check_mode
        self.run_id = self.p["lock_run_id"]
        self.own_lock = False
        self.live_before = rel.link_version(self.layout, self.layout.current)
        self.version = None
        self.canary_units = None
        self.health = None  # the check of this switch (health_check())
        self.result = dict(changed=False, switched=False, rolled_back=False, live=self.live_before,
                           previous=rel.link_version(self.layout, self.layout.previous), handovers=[], restarted=[],
                           canary=None, units_changed=[], pruned=[], finished=False, seconds={})

    @property
    def action(self):
        if self.p["audit"].get("action"):
            return self.p["audit"]["action"]
        return "rollback" if self.p["rollback"] else "restart" if self.p["restart"] else "deploy"

    # ---- what to switch to ------------------------------------------------------------------------

    def releases_text(self):
        return ", ".join(r["version"] for r in rel.list_releases(self.layout)) or "none"

    def target(self):
        """The version and config to make live, or a Failed saying why not (nothing changed yet)."""
        lay, p = self.layout, self.p
        version = p["version"]
        if p["rollback"] and not version:
            version = rel.link_version(lay, lay.previous)
            if not version:
                raise Failed("nothing to roll back to: %s has no previous release on this host (releases: %s)"
                             % (self.name, self.releases_text()))
        if not version:
            version = self.live_before
            if not version:
                raise Failed("nothing of %s is live on this host to restart" % self.name)
        if p["rollback"]:
            record = rel.read_record(lay, version)
            if not os.path.isdir(lay.release(version)):
                raise Failed("zipapp_rollback_to=%s is not a release of %s on this host (releases: %s)"
                             % (version, self.name, self.releases_text()))
            if record and record.get("failed") and version != p["failed_version"]:
                raise Failed("%s was marked failed (%s): refusing to go back to it"
                             % (version, record["failed"].get("reason", "")))
            if not record or not rel.linked_config(lay, version) or not os.path.isfile(lay.pyz(version)):
                raise Failed("%s is incomplete on this host (no record or config)" % version)
        config = p["config"] or rel.linked_config(lay, version)
        if not config or not os.path.isdir(lay.config_dir(version, config)):
            if self.check and not p["rollback"]:
                return version, None  # check mode before the download: all of it would be new
            raise Failed("release %s of %s is not prepared on this host (no %s)"
                         % (version, self.name, lay.config_dir(version, config or "config")))
        return version, config

    def previous_link(self, version):
        if not self.p["rollback"]:
            return LIVE_BEFORE
        failed = self.p["failed_version"]
        previous = rel.newest_good(self.layout, exclude=(version, failed, self.live_before))
        if self.live_before and self.live_before not in (failed, version):
            previous = self.live_before  # a rollback from a good release keeps it as the way forward again
        return previous

    # ---- the steps --------------------------------------------------------------------------------

    def health_check(self, version):
        """The health check of this switch: the one given, or -- for a rollback that names no health path -- the
        one ``version`` passed when it went live here (``rel.recorded_check``), so that going back needs nothing
        but the app's name and still checks what the deploy checked."""
        p = self.p
        check = dict(path=p["health_path"], host=p["health_host"], address=p["health_address"], timeout=p["timeout"],
                     retries=p["retries"], delay=p["delay"], settle=p["settle"])
        if p["rollback"] and not p["health_path"]:
            recorded = rel.recorded_check(self.layout, version)
            if recorded:
                check.update((k, v) for k, v in recorded.items() if k in check)
                self.result["health_check_from"] = "release record"
        return check

    def check_settings(self, address):
        return dict(self.health, address=address)

    def canary(self, version, config, plan):
        """Boot the release on a private socket and check it; raise Failed when it fails."""
        instance = RuntimeUnits(self.run, self.layout, version, config, "canary")
        c = self.health
        try:
            instance.install(_units.CANARY)  # zipapp_release may have started it already
            rc, out = instance.start(instance.socket, instance.service)
            if rc != 0:
                raise RuntimeError("starting the canary failed: %s" % out)
            if c["path"]:
                result = _health.check(instance.socket_path, c["path"], c["host"], c["timeout"],
                                       c["retries"], c["delay"], still_running=instance.dead)
            else:
                result = self.settle(instance)
            if not result["ok"]:
                result["journal"] = instance.journal()
        except (OSError, RuntimeError) as e:
            result = dict(ok=False, error=str(e), attempts=0, seconds=0, body="", journal=instance.journal())
        if result["ok"]:
            # it stops while the switch goes on; its unit files go once the rollout is done
            self.run(["systemctl", "stop", "--no-block", instance.socket, instance.service])
            self.canary_units = instance
        else:
            instance.remove()
        self.result["canary"] = dict((k, v) for k, v in result.items() if k != "journal")
        if not result["ok"]:
            what = "GET %s: %s" % (c["path"], _health.describe(result)) if c["path"] else \
                "it did not stay up for %s s: %s" % (c["settle"], result.get("error"))
            raise Failed("release %s of %s failed its canary check before going live (%s); it was not switched in. "
                         "Last lines of its journal: %s"
                         % (version, self.name, what, " | ".join(result.get("journal", [])[-8:])),
                         journal=result.get("journal", []))

    def settle(self, instance):
        rc, out = instance.start(instance.service)
        start = time.time()
        while time.time() - start < self.health["settle"]:
            dead = instance.dead()
            if dead or instance.state().get("ActiveState") != "active":
                return dict(ok=False, error=dead or "the canary stopped", attempts=1,
                            seconds=round(time.time() - start, 2), body="")
            time.sleep(0.2)
        return dict(ok=True, attempts=1, seconds=round(time.time() - start, 2), body="", status=None)

    def rollout(self, switch, plan, address):
        ro = Rollout(self.run, self.layout, self.check_settings(address))
        try:
            if plan["listen_changed"]:
                # a new ListenStream= needs the socket restarted, which systemd refuses while a process uses it
                web = [u for h in plan["handovers"] if h.get("socket") for u in h["running"]]
                if web:
                    self.run(["systemctl", "stop"] + web)
                sd.systemctl(self.run, "restart", plan["socket"])
            for h in sorted(plan["handovers"], key=lambda h: (h["process"] != "web", h["process"])):
                self.result["handovers"].append(ro.handover(h))
            if plan["restart"]:
                ro.restart(plan["restart"], web=plan["web"])
                self.result["restarted"] = list(plan["restart"])
            switch.finish(plan)
            if ro.reload:
                sd.daemon_reload(self.run)
        except (SwitchError, OSError, RuntimeError) as e:
            ro.undo()
            raise Failed(str(e), journal=getattr(e, "journal", []), rollout=ro)

    def put_back(self, plan, ro):
        """The live release and config again, after a failed rollout; a process that still runs the old
        release (the same main PID as before the switch) is left alone."""
        lay = self.layout
        back_version, back_config = plan["live_before"], plan["live_config"]
        back = Switch(self.run, lay, back_version, back_config, previous=plan["previous_before"])
        bp = back.plan()
        back.commit(bp)
        if plan["version"] != back_version and plan["target_config_before"] and plan["config_switch"]:
            rel.swap_link(lay.config_link(plan["version"]), plan["target_config_before"])
        units = set(bp["restart"]) | set(u for h in bp["handovers"] for u in h["running"])
        states = sd.show_many(self.run, sorted(units), "ActiveState", "MainPID")

        def untouched(unit):
            return running(states.get(unit, {})) and plan["pids"].get(unit) == states[unit].get("MainPID")

        again = Rollout(self.run, lay, ro.check)
        for h in bp["handovers"]:
            keep = [u for u in h["running"] if untouched(u)]
            if keep:
                extra = [u for u in h["running"] if u not in keep]
                if extra:
                    self.run(["systemctl", "stop"] + extra)
            else:
                again.handover(h)
        restart = [u for u in bp["restart"] if not untouched(u)]
        again.restart(restart, web=bp["web"])
        back.finish(bp)
        if again.reload or ro.reload:
            sd.daemon_reload(self.run)

    def predicted_handovers(self, plan=None):
        """Check mode: the instances a handover would start, and the ones it would replace."""
        if plan is None:  # the release is not prepared yet: the web process of what is live hands over
            live_config = rel.linked_config(self.layout, self.live_before) if self.live_before else None
            manifest = _config.read_manifest(self.layout, self.live_before, live_config, self.name) if live_config else {}
            units = [u for h in manifest.get("handover") or [] for u in slots(h["template"])]
            units += [manifest["web"]] if manifest.get("web") and manifest["web"] not in units else []
            states = sd.show_many(self.run, units, "ActiveState")
            return [{"unit": None, "replaced": [u for u in units if running(states[u])]}]
        out = []
        for h in plan["handovers"]:
            free = [u for u in h["slots"] if u not in h["running"]]
            out.append({"unit": (free or h["slots"])[0], "replaced": h["running"]})
        return out

    def swap(self):
        p, lay = self.p, self.layout
        version, config = self.target()
        self.version = version
        self.health = self.health_check(version)
        if config is None:
            self.result.update(changed=True, switched=True, live=version, handovers=self.predicted_handovers())
            return
        switch = Switch(self.run, lay, version, config, previous=self.previous_link(version))
        plan = p["plan"] if p["plan"] and (p["plan"].get("version"), p["plan"].get("config")) == (version, config) \
            else switch.plan(force=p["restart"])
        self.result["units_changed"] = sorted(plan["writes"] + plan["removals"])
        if p["rollback"] and p["failed_version"] and p["failed_version"] != version and not self.check:
            rel.mark_failed(lay, p["failed_version"], p["reason"] or "the deploy failed")
        if plan["in_sync"] and not p["restart"]:
            self.result.update(live=version, changed=bool(p["rollback"] and p["failed_version"]))
            return
        self.result["changed"] = True
        if self.check:
            doomed = rel.prune_plan(lay, p["keep"])[0] if p["keep"] else []
            self.result.update(live=version, switched=plan["release_switch"] or plan["config_switch"],
                               restarted=plan["restart"], pruned=[r["version"] for r in doomed],
                               handovers=self.predicted_handovers(plan))
            return
        if needs_canary(lay, plan, p["canary"]):
            with self.timed("canary"):
                self.canary(version, config, plan)
        else:  # one that zipapp_release started for a deploy that then failed, or a killed run's
            RuntimeUnits(self.run, lay, version, config, "canary").remove()
        address = self.health["address"] or self.listen_address(version, config)
        try:
            try:
                with self.timed("commit"):
                    switch.commit(plan)
            except (OSError, RuntimeError, rel.ReleaseError) as e:
                raise Failed("switching %s to %s failed: %s" % (self.name, version, e))
            with self.timed("rollout"):
                self.rollout(switch, plan, address)
        except Failed as e:
            if self.canary_units:
                self.canary_units.remove()
            ro = e.extra.pop("rollout", None) or Rollout(self.run, lay, self.check_settings(address))
            changed_release = (plan["live_before"], plan["live_config"]) != (version, config)
            if plan["live_before"] and changed_release and p["rollback_on_failure"]:
                self.put_back(plan, ro)
                self.result.update(rolled_back=True, live=plan["live_before"])
            elif not plan["live_before"]:
                deactivate(self.run, lay)
                self.result.update(live=None, previous=None)
            else:
                self.result.update(live=version, switched=changed_release)
            raise
        self.result.update(switched=plan["release_switch"] or plan["config_switch"], live=version,
                           previous=rel.link_version(lay, lay.previous))
        if self.canary_units:
            self.canary_units.remove(reload=False)
        rel.mark_healthy(lay, version, config, check=self.health)
        if p["keep"]:
            self.result["pruned"] = rel.prune(lay, p["keep"])
        rel.prune_configs(lay, version)

    @contextlib.contextmanager
    def timed(self, phase):
        t0 = time.time()
        try:
            yield
        finally:
            self.result["seconds"][phase] = round(time.time() - t0, 2)

    def listen_address(self, version, config):
        unit = rel.read_bytes(os.path.join(self.layout.config_dir(version, config), "units", self.name + ".socket"))
        for line in (unit or b"").decode("utf-8", "replace").splitlines():
            if line.startswith("ListenStream="):
                return line.split("=", 1)[1].strip()
        return ""

    def deactivate(self):
        removed = deactivate(self.run, self.layout, check_mode=self.check)
        if self.p["failed_version"] and not self.check:
            rel.mark_failed(self.layout, self.p["failed_version"], self.p["reason"] or "the deploy failed")
        self.result.update(changed=bool(removed or self.live_before), switched=bool(self.live_before), live=None,
                           previous=None, units_changed=removed, rolled_back=bool(self.live_before))

    def end(self, failure=None):
        """Record the outcome and give the lock back (with O(finish), or when this call took it); exit."""
        p, lay = self.p, self.layout
        # recover.yml: this call puts back what was live after a deploy failed in one of its hooks
        recovering = bool(p["rollback"] and p["reason"] and self.action == "deploy")
        if (p["finish"] or self.own_lock) and self.run_id and not self.check:
            entry = dict(p["audit"], action=self.action)
            entry.setdefault("version", self.version or p["version"])
            if failure is None and not recovering:
                entry.setdefault("previous", self.live_before)
                held = _lock.read_owner(self.name)
                if held and held.get("run_id") == self.run_id:
                    entry.update(user=held.get("user"), controller=held.get("host"))
                rel.append_audit(lay, dict(entry, result="ok", run_id=self.run_id))
                if self.action in ("deploy", "rollback"):
                    rel.clear_failed(lay, entry["version"])  # it just proved itself live and healthy
                _lock.release(self.name, self.run_id)
            else:
                back = self.result["rolled_back"] or (recovering and self.result["switched"])
                entry.update(result="rolled_back" if back else "failed", serving=self.result["live"],
                             message=str(failure) if failure is not None else p["reason"])
                rel.end_failed(lay, self.run_id, entry,
                               failed_version=p["failed_version"] if failure is not None and not p["rollback"] else None)
            self.result["finished"] = True
        elif failure is not None and p["failed_version"] and not p["rollback"] and not self.check:
            rel.mark_failed(lay, p["failed_version"], str(failure))
        self.result["seconds"]["total"] = round(time.time() - self.started, 2)
        if failure is not None:
            self.module.fail_json(msg=str(failure), **dict(self.result, **failure.extra))
        self.module.exit_json(**self.result)

    def main(self):
        p = self.p
        if not self.check:
            if self.run_id:
                problem = _lock.check_held(self.name, self.run_id)
                if problem:
                    self.module.fail_json(msg="%s; nothing was switched" % problem)
            elif p["lock_owner"]:
                try:
                    self.run_id, warnings = _lock.take(self.name, p)
                except _lock.LockError as e:
                    self.module.fail_json(msg=str(e), locked=True, lock_held_by=e.owner)
                self.own_lock = True
                for w in warnings:
                    self.module.warn(w)
        if self.check:
            self.work()
        with _lock.StepLock(self.name):
            self.work()

    def work(self):
        try:
            if self.p["rollback"] and self.p["deactivate"]:
                self.deactivate()
            else:
                self.swap()
        except Failed as e:
            self.end(e)
        self.end()
