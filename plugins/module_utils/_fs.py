# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable renames: the one fsync of a directory every atomic write and swap ends with.

This is a private module_utils file: its interface may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def fsync_dir(path):
    """fsync a directory (a rename in it is durable once this returns); errors are ignored."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
