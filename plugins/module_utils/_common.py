# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module options several modules share: one dict per doc fragment, as community.docker's
DOCKER_COMMON_ARGS is to its ``docker`` fragment.

This is a private module_utils file: its interface may change without notice.

A module's ``argument_spec`` is ``argument_spec(APP, LOCK, ..., own=...)``; its DOCUMENTATION extends the
fragments of the same names, and ansible-test's validate-modules checks that the two agree.
"""

# containerless.zipapp.app: which app on the host
APP = dict(
    name=dict(type="str", required=True),
    root=dict(type="path", default="/opt/zipapp"),
)
# containerless.zipapp.app.lock: a step of a deploy, under the deploy lock another step took
LOCK = dict(
    lock_run_id=dict(type="str"),
)
# containerless.zipapp.app.lock_take: a module that takes the deploy lock (lock_owner and lock_dead_owner are
# set by the action plugins)
LOCK_TAKE = dict(
    lock_owner=dict(type="dict"),
    lock_dead_owner=dict(type="str"),
    lock_timeout=dict(type="int", default=0),
    lock_lease=dict(type="int", default=3600),
    lock_break=dict(type="bool", default=False),
)
# containerless.zipapp.app.health: the health checks of the canary and of a new instance
HEALTH = dict(
    timeout=dict(type="float", default=5),
    retries=dict(type="int", default=30),
    delay=dict(type="float", default=1),
    settle=dict(type="float", default=3),
)
# containerless.zipapp.download: a verified download (each module documents its own url)
DOWNLOAD = dict(
    url=dict(type="str"),
    checksum=dict(type="str", required=True),
    download_on=dict(type="str", choices=["target", "controller"], default="target"),
    controller_cache=dict(type="str", default="~/.cache/containerless.zipapp"),
    timeout=dict(type="int", default=60),
    headers=dict(type="dict", default={}, no_log=True),
    validate_certs=dict(type="bool", default=True),
    source_url=dict(type="str"),
)
# containerless.zipapp.signature: checked on the controller by the action plugin (authenticate()), which
# passes the authenticated digest on
SIGNATURE = dict(
    signing_keys=dict(type="list", elements="str", default=[], no_log=False),  # public keys
    signature=dict(type="str", default=""),
    signature_namespace=dict(type="str", default="file"),
    require_signature=dict(type="bool", default=False),
)


def argument_spec(*shared, **own):
    """The ``argument_spec`` of a module: the ``shared`` dicts above, then its ``own`` options."""
    spec = {}
    for options in shared:
        clash = set(spec) & set(options)
        if clash:
            raise ValueError("options given twice: %s" % ", ".join(sorted(clash)))
        spec.update(options)
    spec.update(own)
    return spec
