# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # A verified download (module_utils/_common.py DOWNLOAD); each module documents its own url.
    DOCUMENTATION = r"""
options:
  checksum:
    description:
      - C(sha256:<64 hex digits>), or C(sha256:<url>) of a C(SHA256SUMS) file; the line whose file name
        equals the file name of O(url) is used (GNU C(<hex>  name) and BSD C(SHA256 (name) = <hex>) lines).
    type: str
    required: true
  download_on:
    description:
      - V(target) downloads on the host; V(controller) downloads once on the controller and copies the verified
        file (done by the action plugin, which is used automatically).
    type: str
    choices: [target, controller]
    default: target
  controller_cache:
    description: Cache directory on the controller for O(download_on=controller).
    type: str
    default: ~/.cache/containerless.zipapp
  timeout:
    description: Timeout in seconds of each network operation of the download.
    type: int
    default: 60
  headers:
    description: HTTP headers for the download, for example an C(Authorization) header. Never logged.
    type: dict
    default: {}
  validate_certs:
    description: Whether to validate TLS certificates.
    type: bool
    default: true
  source_url:
    description:
      - The URL reported and recorded as the source when O(url) is a local copy (set by the action plugin
        for O(download_on=controller)). Defaults to O(url).
    type: str
"""
