"""demoapp: a tiny Django project shipped as a shiv zipapp."""

from demoapp._version import VERSION

__all__ = ["VERSION"]
