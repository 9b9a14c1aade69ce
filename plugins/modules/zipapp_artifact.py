#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: zipapp_artifact
short_description: Download a file, verify its sha256, and only then put it in place
version_added: 0.1.0
description:
  - Makes O(dest) a verified copy of O(url). The download goes to a temporary file; directories are
    created and the file is renamed into place only after its sha256 matched, so a failed or
    mismatching download changes nothing.
  - An existing O(dest) with the expected sha256 is left alone and nothing is downloaded. An existing
    O(dest) with another sha256 is refused, because a released version is immutable.
  - With O(download_on=controller) the file is downloaded once into a cache on the controller (keyed by
    sha256), verified there, and copied to the host, where it is verified again before it is placed.
  - Without O(url) the module only reports whether O(dest) is present with the expected sha256.
author:
  - containerless.zipapp maintainers (@containerless)
extends_documentation_fragment:
  - action_common_attributes
  - containerless.zipapp.download
  - containerless.zipapp.signature
  - action_common_attributes.flow
  - action_common_attributes.files
  - containerless.zipapp.attributes.action
  - containerless.zipapp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  safe_file_operations:
    support: full
  vault:
    support: none
options:
  url:
    description:
      - C(http://), C(https://) or C(file:///) URL of the file.
    type: str
  dest:
    description: Absolute path where the verified file is placed.
    type: path
    required: true
  mode:
    description: Mode of the placed file.
    type: raw
    default: "0644"
notes:
  - Credentials in O(url) are refused by the deploy role's preflight; pass them in O(headers).
seealso:
  - module: ansible.builtin.get_url
"""

EXAMPLES = r"""
- name: Download a release and verify it
  containerless.zipapp.zipapp_artifact:
    url: https://artifacts.example.com/demoapp/demoapp-1.4.2.pyz
    checksum: sha256:https://artifacts.example.com/demoapp/SHA256SUMS
    dest: /opt/zipapp/demoapp/releases/1.4.2/demoapp.pyz

- name: Download once on the controller and copy to the hosts
  containerless.zipapp.zipapp_artifact:
    url: https://artifacts.internal/demoapp-1.4.2.pyz
    checksum: "sha256:{{ demoapp_sha256 }}"
    dest: /opt/zipapp/demoapp/releases/1.4.2/demoapp.pyz
    download_on: controller
"""

RETURN = r"""
dest:
  description: Where the file is.
  returned: always
  type: str
sha256:
  description: The verified sha256 of the file (hex).
  returned: always
  type: str
  sample: 2f1c0c5d...
size:
  description: Size of the file in bytes.
  returned: when the file is present
  type: int
missing:
  description: Whether O(dest) is missing or differs from the expected sha256 (only without O(url)).
  returned: when O(url) is not given
  type: bool
url:
  description: The source URL.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.containerless.zipapp.plugins.module_utils import _common, _fs
from ansible_collections.containerless.zipapp.plugins.module_utils._artifact import (
    ArtifactError,
    ensure,
    parse_checksum,
    sha256_file,
)


def main():
    module = AnsibleModule(
        argument_spec=_common.argument_spec(
            _common.DOWNLOAD, _common.SIGNATURE,
            dest=dict(type="path", required=True),
            mode=dict(type="raw", default="0644"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    mode = _fs.file_mode(module, "mode")
    try:
        if not p["url"]:
            expected, sums_url = parse_checksum(p["checksum"])
            if sums_url:
                module.fail_json(msg="without url, checksum must be sha256:<hex>")
            present = os.path.isfile(p["dest"]) and sha256_file(p["dest"]) == expected
            module.exit_json(changed=False, missing=not present, dest=p["dest"], sha256=expected,
                             url=p["source_url"])
        result = ensure(
            p["url"], p["dest"], p["checksum"], timeout=p["timeout"], headers=p["headers"],
            validate_certs=p["validate_certs"], mode=mode, check_mode=module.check_mode,
        )
    except ArtifactError as e:
        module.fail_json(msg="%s; nothing was changed" % e if "nothing was changed" not in str(e) else str(e),
                         dest=p["dest"], url=p["source_url"] or p["url"])
    result["url"] = p["source_url"] or p["url"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
