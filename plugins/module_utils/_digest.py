# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sha256 of a file or of a stream, read in chunks (the one place for it).

This is a private module_utils file: its interface may change without notice.
"""

import hashlib

CHUNK = 1024 * 1024


def sha256_stream(stream):
    """The hex sha256 of what is left to read in ``stream`` (it is read to its end, not closed)."""
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def sha256_file(path):
    """The hex sha256 of the file at ``path``."""
    with open(path, "rb") as f:
        return sha256_stream(f)
