# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files: the one fsync of a directory every atomic write and swap ends with, and readable trees.

This is a private module_utils file: its interface may change without notice.
"""

import os
import stat


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


def make_readable(top):
    """Give everything under ``top`` (and ``top``) world read, and world execute where it matters."""
    changed = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = stat.S_IMODE(st.st_mode)
            want = mode | 0o644
            if stat.S_ISDIR(st.st_mode) or mode & 0o100:
                want |= 0o755
            want &= ~0o022
            if want != mode:
                os.chmod(name, want)
                changed += 1
    return changed


def file_mode(module, name):
    """The octal mode option ``name`` of ``module`` as an int (``"0644"`` or 420); fails the module naming it."""
    value = module.params[name]
    try:
        return int(value, 8) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        module.fail_json(msg="%s must be an octal mode such as '0644', got %r" % (name, value))
