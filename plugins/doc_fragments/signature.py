# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # A signed SHA256SUMS, checked on the controller by the action plugin (docs/trust.md).
    DOCUMENTATION = r"""
options:
  signing_keys:
    description:
      - Trusted public keys, each an OpenSSH public key line (C(ssh-ed25519 AAAA... comment)); more than one
        during a key rotation.
      - When set, a O(checksum) of the form C(sha256:<url of SHA256SUMS>) is only taken when the file at
        O(signature) is an OpenSSH signature (C(ssh-keygen -Y sign -n <namespace>)) of that SHA256SUMS by one of
        them. The controller fetches and checks both, and the host gets only the authenticated digest.
    type: list
    elements: str
    default: []
  signature:
    description: URL of the signature of the SHA256SUMS file; empty means C(<SHA256SUMS url>.sig).
    type: str
    default: ""
  signature_namespace:
    description: The namespace the signature must have been made for (C(ssh-keygen -Y sign -n)).
    type: str
    default: file
  require_signature:
    description:
      - Refuse what cannot be authenticated by O(signing_keys) (an inline C(sha256:<hex>) checksum, or no key
        at all), before anything changes.
      - V(false) (the default) takes an inline checksum as given and, without O(signing_keys), a SHA256SUMS
        as the server gives it, which protects against corruption but not against whoever can write to the
        store.
    type: bool
    default: false
"""
