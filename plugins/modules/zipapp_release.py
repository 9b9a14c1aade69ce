#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: zipapp_release
short_description: Prepare a zipapp release (record, shiv cache, config, verified units) without making it live
version_added: 0.1.0
description:
  - Completes a release whose artifact is already verified in place
    (C(<root>/<name>/releases/<version>/<name>.pyz), see M(containerless.zipapp.zipapp_artifact)).
  - Writes the release record (C(release.json)) once, pre-extracts a shiv zipapp's cache as root into the
    read-only cache root C(<root>/<name>/shiv) by calling the zipapp's own bootstrap (the app never runs),
    with modes that leave it readable by the service's dynamic user whatever root's umask is.
  - Writes the release's config (env file, start script, credentials, unit files) into a new
    C(config.<N>) directory when it differs from the release's current config, and validates the unit
    files with C(systemd-analyze verify), treating any warning as an error.
  - Nothing live changes; M(containerless.zipapp.zipapp_swap) makes the release live.
author:
  - containerless.zipapp maintainers
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the env file, start script and units against the live release's; credential values are never shown.
  platform:
    platforms: posix
options:
  name:
    description: Name of the app.
    type: str
    required: true
  version:
    description: Version of the release.
    type: str
    required: true
  root:
    description: Root directory of the apps.
    type: path
    default: /opt/zipapp
  sha256:
    description: The verified sha256 of the artifact, recorded in C(release.json).
    type: str
    required: true
  url:
    description: Where the artifact came from, recorded in C(release.json).
    type: str
    required: true
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
    sha256: "{{ artifact.sha256 }}"
    url: "{{ artifact.url }}"
    python: /usr/bin/python3
    args: [serve]
    env:
      DJANGO_SETTINGS_MODULE: demoapp.settings
    units:
      demoapp.service: "{{ lookup('ansible.builtin.template', 'zipapp.service.j2') }}"
  register: release
"""

RETURN = r"""
config:
  description: The config dir of the release that matches the given config (to be made live by zipapp_swap).
  returned: always
  type: str
  sample: config.2
config_changed:
  description: Whether a new config dir was written (or would be, in check mode).
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
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _release as rel
from ansible_collections.containerless.zipapp.plugins.module_utils import _shiv, _systemd
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import makedirs
from ansible_collections.containerless.zipapp.plugins.module_utils._envfile import EnvFileError, render_env_file
from ansible_collections.containerless.zipapp.plugins.module_utils._validate import (
    check_name,
    check_secrets,
    check_version,
)


def prepare_shiv(module, layout, version, python):
    """Inspect the pyz and pre-extract its shiv cache; return (info, changed)."""
    pyz = layout.pyz(version)
    try:
        info = _shiv.inspect(pyz)
    except _shiv.ZipappError as e:
        module.fail_json(msg=str(e))
    if info["kind"] != "shiv":
        return None, False
    cache = _shiv.cache_dir(layout.shiv, pyz, info["build_id"])
    shiv = dict(cache=cache, build_id=info["build_id"], extracted=False)
    if os.path.isdir(os.path.join(cache, "site-packages")):
        return shiv, False
    shiv["extracted"] = True
    if module.check_mode:
        return shiv, True
    makedirs(layout.shiv, 0o755)
    rc, out, err = module.run_command(_shiv.extract_command(python, pyz, layout.shiv))
    if rc != 0:
        module.fail_json(msg="pre-extracting the shiv cache of %s with %s failed (rc=%d): %s"
                         % (pyz, python, rc, (err or out).strip()[-2000:]))
    _shiv.make_readable(cache)
    return shiv, True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            version=dict(type="str", required=True),
            root=dict(type="path", default="/opt/zipapp"),
            sha256=dict(type="str", required=True),
            url=dict(type="str", required=True),
            deployed_by=dict(type="str", default="unknown"),
            python=dict(type="path", required=True),
            args=dict(type="list", elements="str", default=[]),
            env=dict(type="dict", default={}),
            secrets=dict(type="dict", default={}, no_log=True),
            units=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params
    errors = check_name(p["name"], "name") + check_version(p["version"], "version") + check_secrets(p["secrets"], "secrets")
    if errors:
        module.fail_json(msg="; ".join(errors))
    layout = rel.Layout(p["root"], p["name"])
    version = p["version"]
    pyz = layout.pyz(version)
    result = dict(changed=False, release_created=False, config_changed=False, shiv=None)

    if not os.path.isfile(pyz):
        if not module.check_mode:
            module.fail_json(msg="%s is missing: download and verify it first (zipapp_artifact)" % pyz)
        # check mode before the download: everything would be new
        result.update(changed=True, release_created=True, config_changed=True, config="config.1")
        module.exit_json(**result)

    record = rel.read_record(layout, version)
    if record and record.get("sha256") != p["sha256"]:
        module.fail_json(msg="release %s was recorded with sha256 %s, not %s: a released version is immutable"
                         % (version, record.get("sha256"), p["sha256"]))

    shiv, shiv_changed = prepare_shiv(module, layout, version, p["python"])
    result["shiv"] = shiv

    if record is None:
        result["release_created"] = True
        if not module.check_mode:
            rel.write_record(layout, version, dict(
                name=p["name"], version=version, sha256=p["sha256"], url=p["url"],
                deployed_at=rel.now_utc(), deployed_by=p["deployed_by"], python=p["python"],
                shiv_cache=shiv["cache"] if shiv else None, shiv_build_id=shiv["build_id"] if shiv else None,
            ))

    try:
        env_text = render_env_file(p["env"], header="Managed by containerless.zipapp: %s %s" % (p["name"], version),
                                   var_name="env")
    except EnvFileError as e:
        module.fail_json(msg=str(e))
    start_text = rel.render_start(p["python"], pyz, p["args"],
                                  "Managed by containerless.zipapp: %s %s" % (p["name"], version))
    wanted = rel.desired_config(env_text, start_text, p["units"], p["secrets"])

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

    live_version = rel.link_version(layout, layout.current)
    live_config = rel.linked_config(layout, live_version) if live_version else None
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
            problems = _systemd.verify(module.run_command, units) if units else []
            if problems:
                shutil.rmtree(config_dir, ignore_errors=True)
                module.fail_json(msg="systemd-analyze verify found problems in the units (nothing was changed): "
                                     + " | ".join(problems), problems=problems)

    result["config"] = config_id
    result["changed"] = bool(result["release_created"] or result["config_changed"] or shiv_changed)
    if module._diff:
        label_old = "%s/%s" % (live_version, live_config) if live_config else "(nothing live)"
        result["diff"] = rel.config_diff(live_files, wanted, label_old, "%s/%s" % (version, config_id))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
