"""Features of this build of demoapp; the shiv entry point of a WITH_ORJSON=1 build.

examples/build.sh copies this file to demoapp/_features.py only when WITH_ORJSON=1 and makes
``demoapp._features:main`` the entry point. ``serve`` then imports orjson (a compiled wheel of
the build interpreter) unconditionally at startup: on a CPython that wheel was not built for it
crashes with ModuleNotFoundError, which containerless.zipapp.zipapp_info detects before a deploy.
"""

import sys

NATIVE_JSON = True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if NATIVE_JSON and argv[:1] == ["serve"]:
        import orjson  # noqa: F401  (no fallback: a pyz built for another CPython must fail here)
    from demoapp.__main__ import main as demoapp_main

    return demoapp_main(argv)
