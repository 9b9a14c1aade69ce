# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compiling a tree's pycs with the target interpreter (pycs are specific to it) while it is written.

This is a private module_utils file: its interface may change without notice.

Used for a shiv cache as it is extracted and for a pex venv once it exists.
"""

import json
import os
import subprocess


# Runs under the target interpreter (pycs are specific to it).  It compiles, as "unchecked hash" pycs, every
# file named on stdin ("<path>\t<path shown in tracebacks>" lines, while they are being extracted), then
# every .py under the root that still has no pyc of this interpreter (one linked without its pycs, or whose
# pycs are another interpreter's).  A cache has no symlinks, so the walk sees all of it, except the trees
# named by "-<dir>" lines: linked whole from a cache that an interpreter with the cache tag given as the
# third argument compiled completely, they are skipped when that is this interpreter's tag.  The first
# SMALL files compile in this process; only a bigger set starts a pool of one worker per CPU.  It prints
# the counts and its cache tag (kept in the cache's compiled marker).
COMPILE_CODE = r"""
import importlib.util, json, os, py_compile, sys
os.umask(0o022)
try:
    MODE = py_compile.PycInvalidationMode.UNCHECKED_HASH
except AttributeError:  # Python < 3.7
    MODE = None
SMALL = 32
BATCH = 16
TOP = sys.argv[1]
SHOWN_TOP = sys.argv[2] if len(sys.argv) > 2 else TOP
TAG = sys.implementation.cache_tag
TRUSTED = len(sys.argv) > 3 and sys.argv[3] == TAG
skip = set()

def compile_one(item):
    src, shown = item
    try:
        kw = {"invalidation_mode": MODE} if MODE else {}
        py_compile.compile(src, dfile=shown, doraise=True, **kw)
        return 1
    except Exception:  # a file Python cannot compile is one it cannot import either
        return 0

def compile_many(items):
    return [compile_one(item) for item in items]

def rest():
    for dirpath, dirnames, filenames in os.walk(TOP):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and os.path.join(dirpath, d) not in skip]
        for name in filenames:
            if name.endswith(".py"):
                src = os.path.join(dirpath, name)
                if os.path.isfile(src) and not os.path.exists(importlib.util.cache_from_source(src)):
                    yield src, os.path.join(SHOWN_TOP, os.path.relpath(src, TOP))

def stdin_items():
    for line in sys.stdin:
        src, _, shown = line.rstrip("\n").partition("\t")
        if src.startswith("-"):  # a tree linked whole from a compiled cache
            if TRUSTED:
                skip.add(src[1:])
        elif src:
            yield src, shown or src

results, pool, futures, batch = [], None, [], []
for item in stdin_items():
    if len(results) < SMALL or (os.cpu_count() or 1) < 2:
        results.append(compile_one(item))
        continue
    if pool is None:
        from concurrent.futures import ProcessPoolExecutor
        pool = ProcessPoolExecutor(os.cpu_count())
    batch.append(item)
    if len(batch) == BATCH:  # a batch per task: one round trip to a worker for BATCH files
        futures.append(pool.submit(compile_many, batch))
        batch = []
if batch:
    futures.append(pool.submit(compile_many, batch))
for f in futures:  # all written before looking for what has no pyc
    results += f.result()
late = list(rest())
if pool is None and len(late) > SMALL and (os.cpu_count() or 1) > 1:
    from concurrent.futures import ProcessPoolExecutor
    pool = ProcessPoolExecutor(os.cpu_count())
if pool is not None:
    results += list(pool.map(compile_one, late, chunksize=32))
    pool.shutdown()
else:
    results += [compile_one(item) for item in late]
print(json.dumps({"compiled": sum(results), "failed": len(results) - sum(results), "tag": TAG}))
"""


class Compiler:
    """The target interpreter compiling a cache while it is extracted (COMPILE_CODE): ``start(top,
    final_top)``, ``add(path)`` for each .py written under ``top``, then ``finish()``, which waits and fills
    ``result`` (raises RuntimeError when the interpreter failed)."""

    def __init__(self, python):
        self.python = python
        self.proc = None
        self.top = self.final_top = None
        self.result = None
        self.broken = None

    def start(self, top, final_top=None, linked_tag=None):
        """``linked_tag``: the cache tag of the interpreter that compiled the cache the ``linked()`` trees come
        from (its compiled marker says)."""
        self.top, self.final_top = top, final_top or top
        # run_command cannot: the file names stream to it over stdin while the cache is still being extracted
        # pylint: disable-next=ansible-bad-function
        self.proc = subprocess.Popen(compile_command(self.python, top, self.final_top, linked_tag),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     universal_newlines=True, bufsize=1)  # line-buffered: each file reaches it at once

    def add(self, path, shown=None):
        """Compile ``path`` (shown in tracebacks as ``shown``: its place once renamed)."""
        self._line(path, shown or os.path.join(self.final_top, os.path.relpath(path, self.top)))

    def linked(self, top):
        """``top`` was linked whole, pycs included, from a completely compiled cache: no need to look through
        it when that cache's interpreter is this one."""
        self._line("-" + top, "")

    def _line(self, path, shown):
        try:
            self.proc.stdin.write("%s\t%s\n" % (path, shown))
        except (IOError, OSError) as e:  # it died: finish() says why
            self.broken = str(e)

    def finish(self):
        try:
            out, err = self.proc.communicate()  # closes its stdin: the end of the list
        except (IOError, OSError, ValueError) as e:
            self.proc.kill()
            out, err = self.proc.communicate()
            err = err or str(e)
        if self.proc.returncode != 0:
            raise RuntimeError("compiling %s with %s failed (rc=%d): %s" % (
                self.final_top, self.python, self.proc.returncode, (err or out or self.broken or "").strip()[-2000:]))
        try:
            self.result = json.loads(out)
        except ValueError:
            self.result = None
        return self.result


def compile_command(python, top, shown_top=None, linked_tag=None):
    return [python, "-I", "-S", "-c", COMPILE_CODE, top, shown_top or top] + ([linked_tag] if linked_tag else [])
