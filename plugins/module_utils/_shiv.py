# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shiv zipapp's cache, pre-extracted and compiled as root, without running the app.

This is a private module_utils file: its interface may change without notice.

A shiv ``.pyz`` extracts its ``site-packages`` on first start into
``<SHIV_ROOT>/<resolved pyz file name>_<build_id>/site-packages``; when that directory exists, shiv
takes no lock and writes nothing.  So root extracts it once per release, into a cache root that the
service only reads, the way shiv's own bootstrap does (every member under ``site-packages``, with its
mode), staged in ``<cache>.tmp`` and renamed into place.  What did not change is not written again: a
big directory of ``site-packages`` equal to one an earlier release had (Django, say) is shared through
the app's store (see ``extract()``), and a file equal to the live release's copy is hard-linked from it,
in both cases with its compiled pycs.  The rest is compiled by the target interpreter as "unchecked
hash" pycs while it is extracted (the tree never changes, so Python need not stat or hash the sources to
trust them).  Modes are set explicitly, so a root umask of 077 still leaves the tree readable by the
service's dynamic user.
"""

import hashlib
import os
import shutil
import struct
import zipfile

PREFIX = "site-packages"
STORE = ".shared"
SHARED_MIN = 20  # files a top-level directory needs to live in the store rather than in every cache
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def cache_dir(shiv_root, pyz_path, build_id):
    """Where shiv looks for this pyz's cache (mirrors shiv's ``cache_path``)."""
    return os.path.join(shiv_root, "%s_%s" % (os.path.basename(os.path.realpath(pyz_path)), build_id))


def lock_file(cache):
    """shiv's extraction lock next to a cache dir."""
    return os.path.join(os.path.dirname(cache), ".%s_lock" % os.path.basename(cache))


def compiled_marker(cache):
    """Written once every pyc of a cache exists: an interrupted compilation is resumed."""
    return os.path.join(os.path.dirname(cache), ".%s_compiled" % os.path.basename(cache))


def _raw(fp, info):
    """The compressed bytes of a member, as stored."""
    fp.seek(info.header_offset)
    header = _LOCAL_HEADER.unpack(fp.read(_LOCAL_HEADER.size))
    fp.seek(header[-2] + header[-1], os.SEEK_CUR)  # file name and extra field of the local header
    return fp.read(info.compress_size)


def _mode(info):
    """The file's mode, readable by everyone (executable where it was)."""
    mode = (info.external_attr >> 16) & 0o777
    return (mode | 0o644 | (0o111 if mode & 0o100 else 0)) & ~0o022


class _Live:
    """The live release's pyz and cache: what can be linked instead of written."""

    def __init__(self, pyz, cache):
        self.cache = cache
        self.zf = zipfile.ZipFile(pyz)
        self.fp = open(pyz, "rb")
        self.members = dict((i.filename, i) for i in self.zf.infolist() if i.filename.startswith(PREFIX))
        self.pycache = {}

    def close(self):
        self.fp.close()
        self.zf.close()

    def same(self, fp, info):
        old = self.members.get(info.filename)
        if old is None or (old.file_size, old.CRC, old.compress_size) != (info.file_size, info.CRC, info.compress_size):
            return None
        path = os.path.join(self.cache, info.filename)
        if not os.path.isfile(path) or os.path.getsize(path) != info.file_size:
            return None
        return path if _raw(self.fp, old) == _raw(fp, info) else None

    def pycs(self, path):
        """The compiled files of the live copy of ``path`` (``__pycache__/<stem>.*.pyc``)."""
        directory = os.path.join(os.path.dirname(path), "__pycache__")
        if directory not in self.pycache:
            try:
                self.pycache[directory] = sorted(os.listdir(directory))
            except OSError:
                self.pycache[directory] = []
        stem = os.path.basename(path)[:-3] + "."
        return [os.path.join(directory, n) for n in self.pycache[directory] if n.startswith(stem) and n.endswith(".pyc")]


def _top(name):
    """The top-level entry of ``site-packages`` a member belongs to, and whether it is a directory."""
    rest = name[len(PREFIX) + 1:]
    top, sep, dummy = rest.partition("/")
    return top, bool(sep)


def _digest(fp, infos):
    """What makes a directory of the archive equal to another: every member's path, size, CRC and stored bytes."""
    h = hashlib.sha256()
    for info in sorted(infos, key=lambda i: i.filename):
        h.update(("%s\0%d\0%d\0%d\0" % (info.filename.split("/", 2)[-1], info.file_size, info.CRC,
                                        info.external_attr >> 16)).encode("utf-8"))
        h.update(_raw(fp, info))
    return h.hexdigest()[:24]


def store_dir(shiv_root):
    """Where the caches of one app share the directories of site-packages that are equal (STORE)."""
    return os.path.join(shiv_root, STORE)


def extract(pyz, cache, live_pyz=None, live_cache=None, compiler=None):
    """Extract the ``site-packages`` of ``pyz`` into ``cache``, sharing and linking what is equal.

    A top-level directory of ``site-packages`` with at least SHARED_MIN files lives once in the app's store
    (``<shiv root>/.shared/<name>-<digest of its members>``) and the cache has a relative symlink to it: a
    release whose Django did not change gets the same directory, pycs included, with one symlink.  A file of
    a new directory that equals the live release's copy is hard-linked from it, with its pycs; the rest is
    written.  A ``Compiler`` compiles every ``.py`` written while the rest is still being extracted, and what
    else lacks a pyc of its interpreter once all is there, before anything is renamed into place.  Returns
    counts: ``written``, ``linked`` files, ``pyc_linked`` compiled files taken along, ``shared`` directories
    reused and ``stored`` directories new in the store.
    """
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # of a run that was killed
    store = store_dir(os.path.dirname(cache))
    live = None
    if live_pyz and live_cache and os.path.isdir(os.path.join(live_cache, PREFIX)):
        try:
            live = _Live(live_pyz, live_cache)
        except (IOError, OSError, zipfile.BadZipfile):
            live = None
    counts = {"written": 0, "linked": 0, "pyc_linked": 0, "shared": 0, "stored": 0}
    made, staged = set(), []

    def makedirs(d):
        if d in made:
            return
        if not os.path.isdir(d):
            makedirs(os.path.dirname(d))
            os.mkdir(d)
            os.chmod(d, 0o755)
        made.add(d)

    def place(zf, fp, info, dest):
        makedirs(os.path.dirname(dest))
        source = live.same(fp, info) if live else None
        if source:
            os.link(source, dest)
            counts["linked"] += 1
            if info.filename.endswith(".py"):
                pycs = live.pycs(source)
                if pycs:
                    makedirs(os.path.join(os.path.dirname(dest), "__pycache__"))
                for pyc in pycs:
                    os.link(pyc, os.path.join(os.path.dirname(dest), "__pycache__", os.path.basename(pyc)))
                    counts["pyc_linked"] += 1
            return
        with zf.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(dest, _mode(info))
        counts["written"] += 1
        if compiler is not None and info.filename.endswith(".py"):
            compiler.add(dest, dest.replace(".tmp" + os.sep, os.sep, 1) if dest.startswith(store) else None)

    try:
        with zipfile.ZipFile(pyz) as zf, open(pyz, "rb") as fp:
            site = os.path.join(tmp, PREFIX)
            makedirs(site)
            if compiler is not None:
                compiler.start(site, os.path.join(cache, PREFIX))
            groups, order = {}, []
            for info in zf.infolist():
                name = info.filename
                if not name.startswith(PREFIX + "/") or ".." in name.split("/") or name.endswith("/"):
                    continue
                top, in_dir = _top(name)
                key = (top, in_dir)
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(info)
            for top, in_dir in order:
                infos = groups[(top, in_dir)]
                if not in_dir or len(infos) < SHARED_MIN:
                    for info in infos:
                        place(zf, fp, info, os.path.join(tmp, info.filename))
                    continue
                entry = os.path.join(store, "%s-%s" % (top, _digest(fp, infos)))
                os.symlink(os.path.join("..", "..", STORE, os.path.basename(entry)), os.path.join(site, top))
                if os.path.isdir(entry):
                    counts["shared"] += 1
                    continue
                makedirs(store)
                shutil.rmtree(entry + ".tmp", ignore_errors=True)
                for info in infos:
                    place(zf, fp, info, os.path.join(entry + ".tmp", info.filename[len(PREFIX) + len(top) + 2:]))
                staged.append(entry)
                counts["stored"] += 1
                if compiler is not None:
                    compiler.add_tree(entry + ".tmp", entry)
        if compiler is not None:
            compiler.finish()
        for entry in staged:
            os.chmod(entry + ".tmp", 0o755)
            os.rename(entry + ".tmp", entry)
        os.chmod(tmp, 0o755)
        if os.path.isdir(cache):  # a leftover without its marker
            shutil.rmtree(cache)
        os.rename(tmp, cache)
    except BaseException:
        if compiler is not None and compiler.proc is not None and compiler.proc.poll() is None:
            compiler.proc.kill()
            compiler.proc.wait()
        for entry in staged:
            shutil.rmtree(entry + ".tmp", ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if live:
            live.close()
    return counts


def shared_dirs(cache):
    """The store entries a cache's site-packages links to."""
    site = os.path.join(cache, PREFIX)
    found = set()
    try:
        names = os.listdir(site)
    except OSError:
        return found
    for name in names:
        path = os.path.join(site, name)
        if os.path.islink(path):
            target = os.readlink(path)
            if os.path.dirname(target) == os.path.join("..", "..", STORE):
                found.add(os.path.basename(target))
    return found


def collect_store(shiv_root, kept_caches, check_mode=False):
    """Remove the store entries (and leftovers of killed runs) that no kept cache links to."""
    store = store_dir(shiv_root)
    try:
        entries = os.listdir(store)
    except OSError:
        return []
    used = set()
    for cache in kept_caches:
        used |= shared_dirs(cache)
    doomed = sorted(e for e in entries if e not in used)
    if not check_mode:
        for entry in doomed:
            path = os.path.join(store, entry)
            gone = path + ".removing" if not entry.endswith((".tmp", ".removing")) else path
            if gone != path:
                os.rename(path, gone)  # it never looks like a complete entry while it goes
            shutil.rmtree(gone, ignore_errors=True)
    return doomed
