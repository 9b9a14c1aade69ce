#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_publish
short_description: Publish an artifact and its line of SHA256SUMS to a directory, an HTTP PUT endpoint or S3
version_added: 0.1.0
description:
  - Copies O(src) as O(name) into the target O(to) and records its sha256 in the C(SHA256SUMS) file next to it
    (GNU format C(<hex>  <name>)) - the line for that file is replaced or added, every other line is kept.
    The artifact goes first, then C(SHA256SUMS), so C(SHA256SUMS) never lists a file that is not there.
  - A published version is immutable. An artifact of the same name with the same content changes nothing
    (C(changed=false)); one with other content is refused, and so is a C(SHA256SUMS) that lists the name with
    another sha256. Nothing is changed then.
  - O(to) is a directory (an absolute path or C(file:///...), local or NFS; the artifact is hard-linked into
    place, which never replaces a file, and C(SHA256SUMS) is renamed into place under a POSIX lock), an
    C(http://) or C(https://) URL of a directory that takes C(PUT) (Artifactory, Nexus raw repositories, WebDAV;
    the upload is read back and checked), or C(s3://bucket/prefix/) (needs the Python library C(boto3); the
    objects carry their sha256 as metadata and are written with conditional requests where the server has
    them).
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Shows the change of C(SHA256SUMS).
options:
  src:
    description: The artifact to publish, a file where the module runs (the controller in the publish role).
    type: path
    required: true
  to:
    description:
      - Where to publish - an absolute directory path or C(file:///path), C(http(s)://host/path/), or
        C(s3://bucket/prefix/). The artifact is C(<to>/<name>), the checksums are C(<to>/)O(sums_name).
    type: str
    required: true
  name:
    description: File name at the target; default the file name of O(src).
    type: str
  sums_name:
    description: File name of the checksum list next to the artifact.
    type: str
    default: SHA256SUMS
  signing_key:
    description:
      - An Ed25519 OpenSSH private key file where the module runs (the controller in the publish role; it is never
        copied anywhere). With it the module signs the new C(SHA256SUMS) as C(ssh-keygen -Y sign) does and
        writes the signature as C(<sums_name>.sig) beside it, after C(SHA256SUMS).
      - A signature that already signs the C(SHA256SUMS) there is kept (the same list and key give the same
        signature, so a re-run changes nothing).
    type: path
  signing_key_passphrase:
    description:
      - The passphrase of an encrypted O(signing_key). Read in this process with the Python library C(bcrypt),
        else handed to C(ssh-keygen -Y sign) through C(SSH_ASKPASS) (never on a command line). Never logged.
    type: str
  signature_namespace:
    description: The namespace of the signature (C(ssh-keygen -Y sign -n)); deploys check it.
    type: str
    default: file
  headers:
    description: HTTP headers for an C(http(s)://) target, for example C(Authorization). Never logged or returned.
    type: dict
    default: {}
  timeout:
    description: Timeout in seconds of each network operation.
    type: int
    default: 60
  validate_certs:
    description: Validate TLS certificates (HTTP and S3).
    type: bool
    default: true
  s3_endpoint_url:
    description: Endpoint URL of an S3-compatible server (MinIO, Ceph, ...); path-style addressing is used then.
    type: str
  s3_region:
    description: Region of the bucket.
    type: str
  s3_access_key:
    description: Access key id, with O(s3_secret_key). Unset - boto3's own credentials (C(AWS_*), C(~/.aws), a role).
    type: str
  s3_secret_key:
    description: Secret access key. Never logged.
    type: str
  s3_session_token:
    description: Session token of temporary credentials. Never logged.
    type: str
  s3_profile:
    description: Profile of the AWS config files (not with keys).
    type: str
  mode:
    description: Mode of the files written into a directory target.
    type: raw
    default: "0644"
  directory_mode:
    description: Mode of the directories created for a directory target.
    type: raw
    default: "0755"
  target_python:
    description:
      - The hosts' CPython versions (V(3.13), V(3.11.2)). An artifact that one of them cannot run (wheel tags of
        compiled extensions, C(Requires-Python)) is refused before anything is published, as the deploy role would
        refuse it on the host. For an artifact built elsewhere (the publish role's C(zipapp_publish_artifact));
        M(containerless.zipapp.zipapp_build) checks what it builds itself.
    type: list
    elements: str
    default: []
  python:
    description: Interpreter whose platform (architecture, libc) stands for the hosts' in the O(target_python) check.
    type: str
    default: python3
requirements:
  - boto3 (only for C(s3://) targets)
seealso:
  - module: containerless.zipapp.zipapp_build
  - module: containerless.zipapp.zipapp_artifact
"""

EXAMPLES = r"""
- name: Publish to an NFS directory
  containerless.zipapp.zipapp_publish:
    src: dist/demoapp-1.4.2.pyz
    to: /srv/artifacts/demoapp

- name: Publish to a Nexus raw repository
  containerless.zipapp.zipapp_publish:
    src: dist/demoapp-1.4.2.pyz
    to: https://nexus.example.com/repository/raw/demoapp/
    headers:
      Authorization: "Basic {{ (nexus_user ~ ':' ~ nexus_password) | b64encode }}"

- name: Publish to MinIO
  containerless.zipapp.zipapp_publish:
    src: dist/demoapp-1.4.2.pyz
    to: s3://artifacts/demoapp/
    s3_endpoint_url: https://minio.example.com:9000
    s3_access_key: "{{ minio_access_key }}"
    s3_secret_key: "{{ minio_secret_key }}"
"""

RETURN = r"""
url:
  description: Where the artifact is (a path for a directory target).
  returned: always
  type: str
  sample: s3://artifacts/demoapp/demoapp-1.4.2.pyz
sums_url:
  description: Where the C(SHA256SUMS) is.
  returned: always
  type: str
sha256:
  description: The sha256 of the artifact (hex).
  returned: always
  type: str
size:
  description: Its size in bytes.
  returned: always
  type: int
uploaded:
  description: Whether the artifact was written (false when the identical file was there).
  returned: always
  type: bool
sums_changed:
  description: Whether C(SHA256SUMS) was written.
  returned: always
  type: bool
kind:
  description: V(dir), V(http) or V(s3).
  returned: always
  type: str
signed:
  description: Whether this run wrote the signature of C(SHA256SUMS).
  returned: always
  type: bool
signature_url:
  description: Where the signature is.
  returned: with O(signing_key)
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _fs, _sshsig
from ansible_collections.containerless.zipapp.plugins.module_utils._build import (
    BuildError,
    check_target_pythons,
    probe_python,
    target_python_message,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._interpreter import interpreter_label
from ansible_collections.containerless.zipapp.plugins.module_utils._publish import publish
from ansible_collections.containerless.zipapp.plugins.module_utils._targets import PublishError
from ansible_collections.containerless.zipapp.plugins.module_utils._s3 import settings_from


def make_signer(module):
    """``signer(text)`` for the key of O(signing_key): in this process, or with ssh-keygen for an encrypted key
    when the bcrypt library is missing. Fails (before anything is published) when the key cannot sign."""
    p = module.params
    path, passphrase, namespace = p["signing_key"], p["signing_key_passphrase"], p["signature_namespace"]
    try:
        with open(path, "rb") as f:
            key = _sshsig.load_private_key(f.read(), passphrase)
    except (IOError, OSError) as e:
        module.fail_json(msg="cannot read the signing key %s: %s (nothing was changed)" % (path, e.strerror or e))
    except _sshsig.SignatureError as e:
        if _sshsig.NEEDS_BCRYPT not in str(e) or not passphrase:
            module.fail_json(msg="%s: %s (nothing was changed)" % (path, e))
        try:
            _sshsig.sign_with_ssh_keygen(b"", path, passphrase, namespace)  # the passphrase opens it
        except _sshsig.SignatureError as e2:
            module.fail_json(msg="%s: %s (nothing was changed)" % (path, e2))
        return lambda text: _sshsig.sign_with_ssh_keygen(text.encode("utf-8"), path, passphrase, namespace)
    return lambda text: _sshsig.sign(text.encode("utf-8"), key, namespace)


def check_target_python(module):
    """Refuse (before anything is published) an artifact that a target CPython cannot load."""
    p = module.params
    python = p["python"] if "/" in p["python"] else module.get_bin_path(p["python"], required=True)
    name = p["name"] or os.path.basename(p["src"])
    try:
        probe = probe_python(lambda argv, cwd, env: module.run_command(argv, cwd=cwd), python, {})
        problems = check_target_pythons(p["src"], probe, p["target_python"])
    except BuildError as e:
        module.fail_json(msg="%s (nothing was changed)" % e)
    if problems:
        label = "%s (%s)" % (python, interpreter_label(probe))
        module.fail_json(msg="%s (nothing was changed)" % target_python_message(name, problems, label,
                                                                                p["target_python"], built=False))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            to=dict(type="str", required=True),
            name=dict(type="str"),
            sums_name=dict(type="str", default="SHA256SUMS"),
            signing_key=dict(type="path"),
            signing_key_passphrase=dict(type="str", no_log=True),
            signature_namespace=dict(type="str", default="file"),
            headers=dict(type="dict", default={}, no_log=True),
            timeout=dict(type="int", default=60),
            validate_certs=dict(type="bool", default=True),
            s3_endpoint_url=dict(type="str"),
            s3_region=dict(type="str"),
            s3_access_key=dict(type="str", no_log=True),
            s3_secret_key=dict(type="str", no_log=True),
            s3_session_token=dict(type="str", no_log=True),
            s3_profile=dict(type="str"),
            mode=dict(type="raw", default="0644"),
            directory_mode=dict(type="raw", default="0755"),
            target_python=dict(type="list", elements="str", default=[]),
            python=dict(type="str", default="python3"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    mode = _fs.file_mode(module, "mode")
    dir_mode = _fs.file_mode(module, "directory_mode")
    if module.check_mode and not os.path.isfile(p["src"]):
        # the build before this step did not run in check mode: everything would be new
        module.exit_json(changed=True, url=None, sums_url=None, sha256=None, size=None, uploaded=True,
                         sums_changed=True, kind=None, msg="%s is not built yet" % p["src"])
    if p["target_python"]:
        check_target_python(module)
    signer = make_signer(module) if p["signing_key"] else None
    try:
        result = publish(
            p["src"], p["to"], name=p["name"], sums_name=p["sums_name"], check_mode=module.check_mode,
            headers=p["headers"], timeout=p["timeout"], validate_certs=p["validate_certs"],
            s3=settings_from(p, "s3_"), mode=mode, dir_mode=dir_mode, signer=signer,
        )
    except PublishError as e:
        msg = str(e)
        module.fail_json(msg=msg if "nothing" in msg or "not changed" in msg else "%s (nothing was changed)" % msg,
                         to=p["to"])
    before = result.pop("sums_before")
    after = result.pop("sums_after")
    if module._diff and result["sums_changed"]:
        result["diff"] = dict(before=before, after=after, before_header=result["sums_url"],
                              after_header=result["sums_url"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
