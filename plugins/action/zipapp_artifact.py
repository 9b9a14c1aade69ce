# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action for zipapp_artifact: with download_on=controller, fetch once on the controller.

The controller keeps verified files in ``<controller_cache>/<sha256>/<file name>``, so every host,
batch and run of the same artifact reuses one download (``run_once`` under ``serial`` would run
once per batch).  A host that already has the file gets nothing transferred.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fcntl
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    ArtifactError,
    download,
    place,
    resolve_sha256,
    sha256_file,
    url_file_name,
)

MODULE = "containerless.zipapp.zipapp_artifact"


def controller_copy(url, sha256, cache_dir, timeout, headers, validate_certs):
    """Path of a verified copy of ``url`` in the controller cache, downloading it at most once."""
    cache_dir = os.path.abspath(os.path.expanduser(cache_dir))
    entry = os.path.join(cache_dir, sha256)
    path = os.path.join(entry, url_file_name(url) or "artifact")
    os.makedirs(entry, mode=0o700, exist_ok=True)
    with open(os.path.join(cache_dir, ".%s.lock" % sha256), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # forks for other hosts wait here and then find the file
        if os.path.isfile(path) and sha256_file(path) == sha256:
            return path
        tmp, _size = download(url, sha256, entry, timeout, headers, validate_certs)
        place(tmp, path, 0o600, 0o700)
    return path


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _VALID_ARGS = frozenset(("url", "dest", "checksum", "download_on", "controller_cache", "timeout", "headers",
                             "validate_certs", "mode"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if args.get("download_on", "target") != "controller" or not args.get("url"):
            args.pop("download_on", None)
            args.pop("controller_cache", None)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result

        url = args["url"]
        timeout = int(args.get("timeout", 60))
        headers = args.get("headers") or {}
        validate_certs = args.get("validate_certs", True)
        try:
            sha256 = resolve_sha256(args["checksum"], url, timeout, headers, validate_certs)
        except ArtifactError as e:
            raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
        module_args = dict(dest=args["dest"], checksum="sha256:" + sha256)
        if "mode" in args:
            module_args["mode"] = args["mode"]

        probe = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        if probe.get("failed") or probe.get("present"):
            probe.pop("present", None)
            probe["url"] = url
            result.update(probe)
            return result

        try:
            local = controller_copy(url, sha256, args.get("controller_cache") or "~/.cache/containerless.zipapp",
                                    timeout, headers, validate_certs)
        except ArtifactError as e:
            raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
        if self._task.check_mode:
            result.update(changed=True, dest=args["dest"], sha256=sha256, url=url)
            return result

        tmp_dir = self._make_tmp_path()
        try:
            remote = self._connection._shell.join_path(tmp_dir, "artifact")
            self._transfer_file(local, remote)
            self._fixup_perms2((tmp_dir, remote))
            module_args["url"] = "file://" + remote
            result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(tmp_dir)
        result["url"] = url
        return result
