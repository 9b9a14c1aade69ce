#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_release
short_description: Download, verify and prepare a zipapp release (shiv cache, config, units) and plan its switch
version_added: 0.1.0
description:
  - Checks that the host can run the app (root, systemd as PID 1, the interpreter exists) before it
    changes anything, then takes the app's deploy lock for this run (held until M(containerless.zipapp.zipapp_swap)
    or M(containerless.zipapp.zipapp_lock) gives it back; when the release is live and in sync it gives it back
    itself).
  - Downloads the artifact to a temporary name and verifies its sha256 before anything on the host changes
    (the same code as M(containerless.zipapp.zipapp_artifact)), then renames it into
    C(<root>/<name>/releases/<version>/<name>.pyz). A re-run of the same version downloads nothing; an existing
    version with another sha256 is refused (versions are immutable).
  - Refuses a zipapp that the interpreter cannot run, before anything else. Every bundled distribution must
    have a wheel tag the interpreter supports and a C(Requires-Python) it satisfies (the checks of
    M(containerless.zipapp.zipapp_info)); the message names the distributions and the interpreter's version.
  - Writes the release record (C(release.json)) once and pre-extracts a shiv zipapp's cache as root into the
    read-only cache root C(<root>/<name>/shiv), the way shiv's bootstrap does (the app never runs). A file whose
    path, size and bytes equal the live release's copy is hard-linked from the live cache, with its pycs; the
    rest is written and compiled by the target interpreter. Modes leave the tree readable by the service's
    dynamic user whatever root's umask is.
  - A C(.pex) (recognised by its C(PEX-INFO), whatever its name) gets a venv built once inside the release,
    C(<root>/<name>/releases/<version>/venv-<hash of the interpreter's path>) (one per interpreter), by the pex's
    own tools (C(PEX_TOOLS=1 python app.pex venv); the pex must be built with C(--include-tools)), with the
    distributions copied in and compiled; the start scripts run the venv's C(pex) script, with C(PEX_ROOT) in the
    unit's state directory.
  - Renders the release's config (env file, start scripts, credentials, the units of its processes and timers)
    and writes it into a new C(config.<N>) directory when it differs from the release's current config; unit
    files whose text differs from the installed ones are validated with C(systemd-analyze verify), any warning
    counting as an error.
  - Plans the switch (what M(containerless.zipapp.zipapp_swap) will do, RV(plan)) and reports whether there is
    nothing to do (RV(in_sync)). Nothing live changes.
  - When it fails after taking the lock, it appends a C(failed) line to the audit log and gives the lock back.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.download
  - containerless.zipapp.signature
  - action_common_attributes.flow
  - containerless.zipapp.app
  - containerless.zipapp.app.lock
  - containerless.zipapp.app.lock_take
  - containerless.zipapp.attributes.action
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the env file, start scripts and units against the live release's; credential values are never shown.
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
  deployed_by:
    description: Who deploys (recorded), for example C(user@controller); the action plugin sets this run's.
    type: str
    default: unknown
  python:
    description: Interpreter that runs the zipapp (and compiles its shiv cache).
    type: path
    required: true
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
  secrets_file_env:
    description:
      - Paths of credentials to export into the environment of the app, as C(ENV_NAME) to credential id
        (C(SECRET_KEY_FILE=$CREDENTIALS_DIRECTORY/secret_key)), for apps that read a secret from a file named by a
        variable. Set in every place the release runs - its units, the canary, release commands and exec.
    type: dict
    default: {}
  processes:
    description:
      - The app's processes, as the deploy role's C(zipapp_processes) (C(web) with its C(listen), and others, each
        C({args, listen, instances, overlap, stop_timeout, kill_signal, env, sandbox, service_extra})).
      - Empty for one C(web) process from O(args) and O(listen).
    type: dict
    default: {}
  args:
    description: Arguments after the zipapp of the one C(web) process, when O(processes) is empty.
    type: list
    elements: str
    default: []
  listen:
    description: C(ListenStream=) of C(<name>.socket) of the one C(web) process, when O(processes) is empty.
    type: str
    default: ""
  timers:
    description: Scheduled commands, as the deploy role's C(zipapp_timers).
    type: dict
    default: {}
  sandbox:
    description: The sandbox directives of every unit (the role's defaults with C(zipapp_sandbox) merged in).
    type: dict
    default: {}
  ip_address_allow:
    description: C(IPAddressAllow=) of the units (not written with C(PrivateNetwork=yes)).
    type: list
    elements: str
    default: []
  service_extra:
    description: Extra C(Directive=value) lines for the C([Service]) section of every unit.
    type: list
    elements: str
    default: []
  unit_description:
    description: C(Description=) of the units.
    type: str
    required: true
  stop_timeout:
    description: C(TimeoutStopSec=) of a process that sets none of its own.
    type: int
    default: 30
  state_directory:
    description: Give the units C(StateDirectory=<name>).
    type: bool
    default: true
  handover:
    description:
      - The web process with a socket hands over (C(<name>@blue|green.service) on one socket) instead of
        restarting in place (C(<name>.service)).
    type: bool
    default: true
  warmup_paths:
    description:
      - URL paths each new worker of the web process requests in-process before it accepts a connection, handed to
        it as C(ZIPAPP_WARMUP_PATHS) (space-separated) in the web process's environment, with O(warmup_host) as
        C(ZIPAPP_WARMUP_HOST). Empty sets neither.
    type: list
    elements: str
    default: []
  warmup_host:
    description: The C(Host) header of the warm-up requests (the role passes its health check's).
    type: str
    default: localhost
  managed:
    description: Comment lines every live unit starts with (the role passes C(ansible_managed | comment)).
    type: str
    default: ""
  canary:
    description:
      - When the switch will need a canary (a release and config that never passed a check on this host), start it
        now, without waiting (C(<name>-canary.service) on its private socket), so that it boots while the controller
        moves on; M(containerless.zipapp.zipapp_swap) checks it. Set it false when release commands must run first.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Prepare release 1.4.2 of demoapp
  containerless.zipapp.zipapp_release:
    name: demoapp
    version: "1.4.2"
    url: https://artifacts.example.com/demoapp/demoapp-1.4.2.pyz
    checksum: sha256:https://artifacts.example.com/demoapp/SHA256SUMS
    python: /usr/bin/python3
    unit_description: demoapp
    args: [serve]
    listen: 127.0.0.1:8000
    env:
      DJANGO_SETTINGS_MODULE: demoapp.settings
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
host_script:
  description: The path of C(zipapp-exec) (one-off commands in the live release) when this run wrote it.
  returned: when written
  type: str
  sample: /usr/local/sbin/zipapp-exec
in_sync:
  description:
    - Whether the release is live, unchanged and running exactly as installed, so that
      M(containerless.zipapp.zipapp_swap) has nothing to do.
  returned: always
  type: bool
plan:
  description: What M(containerless.zipapp.zipapp_swap) has to do (pass it on as its O(containerless.zipapp.zipapp_swap#module:plan)).
  returned: success
  type: dict
release_created:
  description: Whether the release record was written now (first deploy of this version on the host).
  returned: always
  type: bool
finished:
  description: On failure, whether the module already recorded it in the audit log and gave the lock back.
  returned: on failure
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
    files:
      description:
        - When extracted now, what was written and what was hard-linked from the live release's cache (the same
          inode at its own path in this cache; the cache has no symlinks). C(written) files; C(linked) files equal
          to the live copy; C(pyc_linked) compiled files taken along with them; C(trees) top-level directories of
          C(site-packages) equal as a whole and linked as one tree.
      type: dict
      sample: {written: 10, linked: 4005, pyc_linked: 1148, trees: 18}
    pyc:
      description: When extracted now, the files the target interpreter compiled (C(compiled), C(failed)) and its C(tag).
      type: dict
      sample: {compiled: 2, failed: 0, tag: cpython-311}
    seconds:
      description: When extracted now, how long the extraction and compilation took.
      type: float
    converted:
      description:
        - Caches of the earlier layout (big directories symlinked into C(shiv/.shared)) that this run gave real
          directories of hard links to the store's files (in check mode, those it would convert). The store goes
          once no cache links into it and no process of the app that started before the conversion runs.
      type: list
      elements: str
    convert_seconds:
      description: How long the conversion took.
      type: float
    not_converted:
      description:
        - Caches that keep their symlinks into the store because the host cannot exchange a directory for a
          symlink in one step (renameat2 with RENAME_EXCHANGE; a warning says so). They work as before.
      type: list
      elements: str
kind:
  description: What the artifact is, C(shiv), C(pex) or C(zipapp) (a plain zipapp with a C(__main__.py)).
  returned: success
  type: str
  sample: shiv
pex:
  description: The venv of a pex release, null for any other kind.
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _lock
from ansible_collections.containerless.zipapp.plugins.module_utils._names import check_name, check_secrets, check_version
from ansible_collections.containerless.zipapp.plugins.module_utils._prepare import Release, host_problems

ARGUMENT_SPEC = _common.argument_spec(
    _common.APP, _common.LOCK, _common.LOCK_TAKE, _common.DOWNLOAD, _common.SIGNATURE,
    version=dict(type="str", required=True),
    deployed_by=dict(type="str", default="unknown"),
    python=dict(type="path", required=True),
    env=dict(type="dict", default={}),
    secrets=dict(type="dict", default={}, no_log=True),
    secrets_env=dict(type="dict", default={}, no_log=False),  # env names -> credential ids, no values
    secrets_file_env=dict(type="dict", default={}, no_log=False),  # likewise
    processes=dict(type="dict", default={}),
    args=dict(type="list", elements="str", default=[]),
    listen=dict(type="str", default=""),
    timers=dict(type="dict", default={}),
    sandbox=dict(type="dict", default={}),
    ip_address_allow=dict(type="list", elements="str", default=[]),
    service_extra=dict(type="list", elements="str", default=[]),
    unit_description=dict(type="str", required=True),
    stop_timeout=dict(type="int", default=30),
    state_directory=dict(type="bool", default=True),
    handover=dict(type="bool", default=True),
    warmup_paths=dict(type="list", elements="str", default=[]),
    warmup_host=dict(type="str", default="localhost"),
    managed=dict(type="str", default=""),
    canary=dict(type="bool", default=False),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version") + check_secrets(p["secrets"], "secrets")
    if errors:
        module.fail_json(msg="; ".join(errors))
    release = Release(module)
    problems = host_problems(p["python"])
    if problems:
        module.fail_json(msg="%s (nothing was changed)" % "; ".join(problems), problems=problems, **release.result)
    if module.check_mode:
        release.prepare()  # only reads: no lock
    if p["lock_owner"]:
        release.take_lock()
    with _lock.StepLock(p["name"], timeout=max(p["lock_timeout"], 600)):
        release.prepare()


if __name__ == "__main__":
    main()
