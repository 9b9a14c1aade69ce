# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of ``download_on: controller``, shared by the actions that place artifacts.

This is a private plugin_utils file: its interface may change without notice.

The controller keeps verified files in ``<cache>/<sha256>/<file name>``, so every host, batch and run
of the same artifact reuses one download (``run_once`` under ``serial`` would run once per batch).
The module is asked first whether the host already has the file; only when it has not, the file is
transferred to the host's temporary directory and the module runs again with ``url=file://<that>``,
verifying it once more before it places it.

``s3://`` URLs are always handled here, on the controller, whatever ``download_on`` says: an ``s3://``
artifact is downloaded like ``download_on: controller`` does, and an ``s3://`` SHA256SUMS is read here
and handed to the host as ``sha256:<hex>``.  Hosts need neither boto3 nor S3 credentials.  The S3
settings are the ``zipapp_s3_*`` variables (endpoint URL, region, keys or profile; empty ones fall back to
boto3's own configuration); they are read from the task's variables and never returned or logged.
"""

import fcntl
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.containerless.zipapp.plugins.plugin_utils._lock_owner import current_owner, run_locked
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    SIGNATURE_OPTIONS,
    ArtifactError,
    authenticate,
    download,
    parse_checksum,
    place,
    resolve_sha256,
    sha256_file,
    url_file_name,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._s3 import (
    SETTINGS as S3_SETTINGS,
    is_s3_url,
    settings_errors,
    settings_from,
)

DEFAULT_CACHE = "~/.cache/containerless.zipapp"
S3_VARIABLE_PREFIX = "zipapp_s3_"


def checksum_url(checksum):
    """The SHA256SUMS URL of a ``sha256:<url>`` checksum, else None."""
    try:
        return parse_checksum(checksum)[1]
    except ArtifactError:
        return None


def s3_settings(task_vars, templar):
    """The S3 settings from the ``zipapp_s3_*`` variables (templated; empty ones left out)."""
    values = {}
    for name in S3_SETTINGS:
        var = S3_VARIABLE_PREFIX + name
        if var in (task_vars or {}):
            values[name] = templar.template(task_vars[var])
    settings = settings_from(values)
    errors = settings_errors(settings, dict((n, S3_VARIABLE_PREFIX + n) for n in S3_SETTINGS))
    if errors:
        raise AnsibleActionFail("; ".join(errors) + "; nothing was changed")
    return settings


def controller_copy(url, sha256, cache_dir, timeout, headers, validate_certs, s3=None):
    """Path of a verified copy of ``url`` in the controller cache, downloading it at most once."""
    cache_dir = os.path.abspath(os.path.expanduser(cache_dir or DEFAULT_CACHE))
    entry = os.path.join(cache_dir, sha256)
    path = os.path.join(entry, url_file_name(url) or "artifact")
    os.makedirs(entry, mode=0o700, exist_ok=True)
    with open(os.path.join(cache_dir, ".%s.lock" % sha256), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # forks for other hosts wait here and then find the file
        if os.path.isfile(path) and sha256_file(path) == sha256:
            return path
        tmp, _size = download(url, sha256, entry, timeout, headers, validate_certs, s3)
        place(tmp, path, 0o600, 0o700)
    return path


def resolve_on_controller(args, s3):
    """Replace an ``sha256:s3://...`` checksum in ``args`` by the hex it lists for the URL's file."""
    try:
        sha256 = resolve_sha256(args["checksum"], args["url"], int(args.get("timeout") or 60),
                                args.get("headers") or {}, args.get("validate_certs", True), s3)
    except ArtifactError as e:
        raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
    args["checksum"] = "sha256:" + sha256


def authenticate_on_controller(args, s3):
    """With trusted keys (or require_signature): check the signed SHA256SUMS here and leave in ``args`` only the
    authenticated digest for the host. Returns the signer's fingerprint, or None. The signature options never
    reach the host."""
    sig = dict((k, args.pop(k)) for k in SIGNATURE_OPTIONS if k in args)
    if not args.get("url") or not (sig.get("signing_keys") or sig.get("require_signature")):
        return None
    try:
        digest, signer = authenticate(args.get("checksum"), args["url"], sig.get("signing_keys") or [],
                                      sig.get("signature") or "", sig.get("signature_namespace") or "file",
                                      bool(sig.get("require_signature")), int(args.get("timeout") or 60),
                                      args.get("headers") or {}, args.get("validate_certs", True), s3)
    except ArtifactError as e:
        raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
    args["checksum"] = "sha256:" + digest
    return signer


def run_with_controller_download(action, module, module_args, task_vars, missing_key, s3=None):
    """Run ``module`` on the host with an artifact fetched on the controller.

    ``module_args`` has ``url``, ``checksum``, ``timeout``, ``headers``, ``validate_certs`` and
    ``controller_cache``; the module must accept ``url`` unset (then it only looks) and report
    ``missing_key: true`` when the host lacks the artifact.  ``s3`` are the S3 settings for s3:// URLs.
    """
    args = dict(module_args)
    url = args.pop("url")
    cache = args.pop("controller_cache", None)
    timeout = int(args.get("timeout") or 60)
    headers = args.get("headers") or {}
    validate_certs = args.get("validate_certs", True)
    try:
        sha256 = resolve_sha256(args["checksum"], url, timeout, headers, validate_certs, s3)
    except ArtifactError as e:
        raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
    args["checksum"] = "sha256:" + sha256
    args["source_url"] = url

    result = action._execute_module(module_name=module, module_args=args, task_vars=task_vars)
    if result.get("failed") or not result.get(missing_key):
        return result
    try:
        local = controller_copy(url, sha256, cache, timeout, headers, validate_certs, s3)
    except ArtifactError as e:
        raise AnsibleActionFail("%s; nothing was changed" % to_text(e))
    if action._task.check_mode:
        result["changed"] = True  # the download (and what follows) would happen
        return result
    tmp_dir = action._make_tmp_path()
    try:
        remote = action._connection._shell.join_path(tmp_dir, url_file_name(url) or "artifact")
        action._transfer_file(local, remote)
        action._fixup_perms2((tmp_dir, remote))
        args["url"] = "file://" + remote
        return action._execute_module(module_name=module, module_args=args, task_vars=task_vars)
    finally:
        action._remove_tmp_path(tmp_dir)


class ControllerDownloadAction(ActionBase):
    """Runs ``MODULE`` on the host, downloading on the controller when ``download_on: controller``.

    With ``LOCKS = True`` the module also takes the app's deploy lock: the action tells it who this run
    is (and records it as ``deployed_by``), and breaks a lock whose owner process on this controller is gone.
    A temporary directory on the host is made only for a file the controller transfers (with pipelining a
    module call is then one round trip).
    """

    TRANSFERS_FILES = False
    MODULE = None
    LOCKS = False

    def _run_module(self, args, task_vars):
        on = args.pop("download_on", "target")
        url = args.get("url")
        s3 = None
        if is_s3_url(url) or is_s3_url(checksum_url(args.get("checksum"))) or is_s3_url(args.get("signature")):
            s3 = s3_settings(task_vars, self._templar)
            if is_s3_url(url):
                on = "controller"  # hosts never talk to S3
        signer = authenticate_on_controller(args, s3)
        if on != "controller" or not url:
            args.pop("controller_cache", None)
            if url and s3 is not None:
                resolve_on_controller(args, s3)  # an s3:// SHA256SUMS for a file the host downloads itself
            result = self._execute_module(module_name=self.MODULE, module_args=args, task_vars=task_vars)
        else:
            result = run_with_controller_download(self, self.MODULE, args, task_vars, "missing", s3)
        if signer:
            result["signed_by"] = signer
        return result

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        if not self.LOCKS:
            result.update(self._run_module(args, task_vars))
            return result
        owner = current_owner(args.get("version"))
        args.setdefault("deployed_by", "%s@%s" % (owner["user"], owner["host"]))
        result.update(run_locked(lambda module_args: self._run_module(dict(module_args), task_vars), args,
                                 args.get("version")))
        return result
