# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shiv zipapp's cache, pre-extracted and compiled as root, without running the app.

This is a private module_utils file: its interface may change without notice.

A shiv ``.pyz`` extracts its ``site-packages`` on first start into
``<SHIV_ROOT>/<resolved pyz file name>_<build_id>/site-packages``; when that directory exists, shiv
takes no lock and writes nothing.  So root extracts it once per release, into a cache root that the
service only reads, the way shiv's own bootstrap does (every member under ``site-packages``, with its
mode), staged in ``<cache>.tmp`` and renamed into place.

The cache is what shiv would have made: real directories and regular files, no symlink anywhere, so every
path an app reaches through ``__file__``, ``Path.resolve()``, ``os.path.realpath()`` or
``importlib.resources`` stays inside the release's own cache (Django's stock ``BASE_DIR =
Path(__file__).resolve().parent.parent`` finds the project's templates beside its package).  What did not
change is not written again but hard-linked from the live release's cache (the same inode, each at its own
path in its own cache), with its compiled pycs: a top-level directory of ``site-packages`` whose members all
equal the live release's (Django, say) is linked as a whole tree, any other file equal to its live copy one
by one.  A linked pyc names the live cache's paths in its code objects; the import system rewrites them to
the source it loads the pyc for, so tracebacks name the new cache.  The rest is compiled by the target
interpreter as "unchecked hash" pycs while it is extracted (the tree never changes, so Python need not stat
or hash the sources to trust them).  Directories are made with a umask of 022 and files get explicit modes,
so a root umask of 077 still leaves the tree readable by the service's dynamic user.

Why a whole tree rather than each file, measured on this project's 2-core machine (ext4; the example's
upgrade 1.0.0 -> 2.0.0: 4014 members, 5163 files with the pycs, 2731 directories; 9 interleaved trials,
median): linking the 18 equal top-level directories as trees took 0.21 s, comparing and linking file by file
0.24 s (a ``stat`` of every live file and a lookup of its pycs more), and the compile step needs no walk
through a tree whose cache the same interpreter compiled.  Either way most of it is making the directories
and the links, which the earlier layout's one symlink per big directory did not need (0.07 s): that is the
price of a cache without symlinks, see bench/README.md.

Caches of the earlier layout, whose big directories were symlinks into the app's store
(``<SHIV_ROOT>/.shared/<dir>-<digest>``), are converted by the next deploy (``convert()``) and the store goes
once no cache links into it and no process that may hold a path into it runs (``collect_store()``).
"""

import errno
import json
import os
import shutil
import stat
import struct
import zipfile
from typing import Callable, Dict, List, Optional, Set, Tuple

PREFIX = "site-packages"
STORE = ".shared"  # the earlier layout's store of the directories that caches shared through symlinks
CONVERTED = ".converted"  # in the store: its mtime is when the last cache stopped linking into it
STORE_MARKER = ".zipapp-compiled-"  # the earlier layout's "compiled" marker in a store directory
RENAME_EXCHANGE = 2  # renameat2(2)
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


def staging_dir(cache: str) -> str:
    """Where ``convert()`` builds a cache's real directories before exchanging them in (beside the cache)."""
    return os.path.join(os.path.dirname(cache), ".%s_convert" % os.path.basename(cache))


def compiled_tag(cache: str) -> Optional[str]:
    """The cache tag of the interpreter that compiled ``cache`` completely (its compiled marker), or None."""
    try:
        with open(compiled_marker(cache)) as f:
            tag = json.load(f).get("tag")
    except (IOError, OSError, ValueError, AttributeError):
        return None
    return tag if isinstance(tag, str) else None


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


def _members(zf: zipfile.ZipFile) -> List[zipfile.ZipInfo]:
    """The files of ``site-packages`` that are extracted (no directory entries, nothing outside it)."""
    return [i for i in zf.infolist() if i.filename.startswith(PREFIX + "/") and not i.filename.endswith("/")
            and ".." not in i.filename.split("/")]


def _top(name):
    """The top-level entry of ``site-packages`` a member belongs to, and whether it is a directory."""
    rest = name[len(PREFIX) + 1:]
    top, sep, dummy = rest.partition("/")
    return top, bool(sep)


class _Live:
    """The live release's pyz and cache: what can be linked instead of written."""

    def __init__(self, pyz, cache):
        self.site = os.path.join(cache, PREFIX)
        self.zf = zipfile.ZipFile(pyz)
        self.fp = open(pyz, "rb")
        self.members = dict((i.filename, i) for i in _members(self.zf))
        self.tops = {}  # type: Dict[str, int]
        for name in self.members:
            top = _top(name)[0]
            self.tops[top] = self.tops.get(top, 0) + 1
        self.pycache = {}  # type: Dict[str, List[str]]

    def close(self):
        self.fp.close()
        self.zf.close()

    def equal(self, fp, info: zipfile.ZipInfo) -> bool:
        """Whether the live pyz has this member byte for byte: path, size, CRC, mode and stored bytes."""
        old = self.members.get(info.filename)
        if old is None or (old.file_size, old.CRC, old.compress_size, _mode(old)) != \
                (info.file_size, info.CRC, info.compress_size, _mode(info)):
            return False
        return _raw(self.fp, old) == _raw(fp, info)

    def same(self, fp, info: zipfile.ZipInfo) -> Optional[str]:
        """The live copy of a member equal to ``info``, when it is in the live cache with its size."""
        if not self.equal(fp, info):
            return None
        path = os.path.join(self.site, info.filename[len(PREFIX) + 1:])
        try:
            st = os.stat(path)
        except OSError:
            return None
        return path if stat.S_ISREG(st.st_mode) and st.st_size == info.file_size else None

    def same_tree(self, fp, top: str, infos: List[zipfile.ZipInfo]) -> bool:
        """Whether the live release's top-level directory ``top`` has exactly these members, each equal."""
        return self.tops.get(top) == len(infos) and all(self.equal(fp, i) for i in infos)

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


def _link(source: str, dest: str) -> bool:
    """Hard-link ``source`` as ``dest``; False where the file system will not (another device, too many links):
    the caller writes the file instead."""
    try:
        os.link(source, dest)
    except OSError as e:
        if e.errno in (errno.EXDEV, errno.EMLINK, errno.EPERM):
            return False
        raise
    return True


def _link_tree(source: str, dest: str, wanted: Callable[[str, bool], bool], counts: Dict[str, int]) -> Set[str]:
    """Make ``dest`` (new) a tree of real directories with hard links to the regular files of ``source`` for
    which ``wanted(relative path, whether it is in a __pycache__)`` holds; return the relative paths linked
    (the pycs are counted apart).

    ``source`` may be a symlink to a directory (a cache of the earlier layout); nothing below it is followed.
    """
    os.mkdir(dest, 0o755)
    linked = set()  # type: Set[str]
    stack = [("", source, dest)]
    while stack:
        rel, src_dir, dest_dir = stack.pop()
        in_pycache = os.path.basename(rel) == "__pycache__"
        with os.scandir(src_dir) as entries:
            for entry in entries:
                path = rel + "/" + entry.name if rel else entry.name
                target = os.path.join(dest_dir, entry.name)
                if entry.is_dir(follow_symlinks=False):
                    os.mkdir(target, 0o755)
                    stack.append((path, entry.path, target))
                elif entry.is_file(follow_symlinks=False) and wanted(path, in_pycache) and _link(entry.path, target):
                    if in_pycache:
                        counts["pyc_linked"] += 1
                    else:
                        counts["linked"] += 1
                        linked.add(path)
    return linked


def extract(pyz, cache, live_pyz=None, live_cache=None, compiler=None):
    """Extract the ``site-packages`` of ``pyz`` into ``cache``, hard-linking what equals the live release's.

    A top-level directory whose members all equal the live pyz's is linked from the live cache as a whole
    tree, pycs included (``trees`` counts them); any other file equal to its live copy is linked with its pycs,
    the rest is written.  A ``Compiler`` compiles every ``.py`` written while the rest is still being
    extracted, and what else lacks a pyc of its interpreter once all is there, before the cache is renamed
    into place.  Returns counts: ``written``, ``linked`` files, ``pyc_linked`` compiled files taken along and
    ``trees`` linked whole.
    """
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)  # of a run that was killed
    live = None
    if live_pyz and live_cache and os.path.isdir(os.path.join(live_cache, PREFIX)):
        try:
            live = _Live(live_pyz, live_cache)
        except (IOError, OSError, zipfile.BadZipfile):
            live = None
    counts = {"written": 0, "linked": 0, "pyc_linked": 0, "trees": 0}
    made = set()  # type: Set[str]

    def makedirs(d):
        if d in made:
            return
        if not os.path.isdir(d):
            makedirs(os.path.dirname(d))
            os.mkdir(d, 0o755)
        made.add(d)

    def place(zf, fp, info, dest):
        makedirs(os.path.dirname(dest))
        source = live.same(fp, info) if live else None
        if source and _link(source, dest):
            counts["linked"] += 1
            if info.filename.endswith(".py"):
                pycs = live.pycs(source)
                if pycs:
                    makedirs(os.path.join(os.path.dirname(dest), "__pycache__"))
                for pyc in pycs:
                    if _link(pyc, os.path.join(os.path.dirname(dest), "__pycache__", os.path.basename(pyc))):
                        counts["pyc_linked"] += 1
            return
        with zf.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        if _mode(info) != 0o644:  # what open() made under the umask of 022
            os.chmod(dest, _mode(info))
        counts["written"] += 1
        if compiler is not None and info.filename.endswith(".py"):
            compiler.add(dest)

    umask = os.umask(0o022)
    try:
        with zipfile.ZipFile(pyz) as zf, open(pyz, "rb") as fp:
            site = os.path.join(tmp, PREFIX)
            makedirs(site)
            if compiler is not None:
                compiler.start(site, os.path.join(cache, PREFIX), compiled_tag(live_cache) if live else None)
            groups = {}  # type: Dict[Tuple[str, bool], List[zipfile.ZipInfo]]
            for info in _members(zf):
                groups.setdefault(_top(info.filename), []).append(info)
            for (top, in_dir), infos in groups.items():
                if in_dir and live and live.same_tree(fp, top, infos):
                    skip = len(PREFIX) + len(top) + 2
                    names = set(i.filename[skip:] for i in infos)
                    linked = _link_tree(os.path.join(live.site, top), os.path.join(site, top),
                                        lambda path, pyc, names=names: path in names or (pyc and path.endswith(".pyc")),
                                        counts)
                    counts["trees"] += 1
                    if compiler is not None:
                        compiler.linked(os.path.join(site, top))
                    infos = [i for i in infos if i.filename[skip:] not in linked]  # missing in the live tree
                for info in infos:
                    place(zf, fp, info, os.path.join(tmp, info.filename))
        if compiler is not None:
            compiler.finish()
        os.chmod(tmp, 0o755)
        if os.path.isdir(cache):  # a leftover without its marker
            shutil.rmtree(cache)
        os.rename(tmp, cache)
    except BaseException:
        if compiler is not None and compiler.proc is not None and compiler.proc.poll() is None:
            compiler.proc.kill()
            compiler.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)  # links and files of its own: the live cache loses nothing
        raise
    finally:
        os.umask(umask)
        if live:
            live.close()
    return counts


# ---- the earlier layout: a store of shared directories, symlinked from the caches --------------------


def store_dir(shiv_root):
    """The earlier layout's store of an app's caches (STORE)."""
    return os.path.join(shiv_root, STORE)


def caches(shiv_root: str) -> List[str]:
    """The cache directories under ``shiv_root``: not the store, staging dirs or what a killed run left."""
    try:
        names = os.listdir(shiv_root)
    except OSError:
        return []
    return sorted(os.path.join(shiv_root, n) for n in names
                  if not n.startswith(".") and not n.endswith(".tmp") and os.path.isdir(os.path.join(shiv_root, n)))


def store_links(cache: str) -> List[Tuple[str, str]]:
    """The entries of ``site-packages`` that are symlinks into the store (the earlier layout): (name, store
    entry)."""
    found = []
    try:
        with os.scandir(os.path.join(cache, PREFIX)) as entries:
            for entry in entries:
                if entry.is_symlink():
                    target = os.readlink(entry.path)
                    if os.path.dirname(target) == os.path.join("..", "..", STORE):
                        found.append((entry.name, os.path.basename(target)))
    except OSError:
        pass
    return sorted(found)


def shared_dirs(cache):
    """The store entries a cache's site-packages links to."""
    return set(entry for dummy, entry in store_links(cache))


def _renameat2():
    """glibc's renameat2 (2.28 and later), or None."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (ImportError, OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def exchange(a: str, b: str) -> bool:
    """Swap the two paths in one step (renameat2 with RENAME_EXCHANGE); False where the C library, the kernel
    or the file system cannot."""
    func = _renameat2()
    if func is None:
        return False
    at_fdcwd = -100
    if func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), a)


def can_exchange(top: str) -> bool:
    """Whether the file system of ``top`` exchanges two directories in one step (tried on two empty ones)."""
    probe = os.path.join(top, ".exchange-probe")
    shutil.rmtree(probe, ignore_errors=True)  # of a killed run
    os.makedirs(os.path.join(probe, "a"))
    os.mkdir(os.path.join(probe, "b"))
    try:
        return exchange(os.path.join(probe, "a"), os.path.join(probe, "b"))
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def old_layout(shiv_root: str) -> List[str]:
    """The caches that still link into the store, or that a killed conversion left unfinished."""
    return [c for c in caches(shiv_root) if store_links(c) or os.path.lexists(staging_dir(c))]


def convert(shiv_root: str) -> Dict[str, List[str]]:
    """Give every cache of the earlier layout real directories of hard links to the store's files instead of
    its symlinks into the store; return the caches ``converted`` and those ``kept`` as they are.

    The caches are in use meanwhile (the live release runs from its cache and imports lazily, an older one may
    be rolled back to), so no path in them may be missing at any moment: each directory is built beside the
    cache (``staging_dir()``) and swapped for the symlink with one renameat2(RENAME_EXCHANGE), after which the
    symlink that landed in the staging dir is removed.  A process sees the symlink or the real directory, both
    with the same files (the same inodes); a file it has open stays valid.  Where the system cannot exchange
    (glibc older than 2.28, a file system without it), the cache keeps its symlinks, which work as before, and
    the store stays for it.  Killed at any point, the next run finds the staging dir or the symlinks left and
    finishes: the staging dir holds only links (removing it frees nothing the caches use).  The store's
    CONVERTED file is touched before a cache's first exchange and after its last one, before its staging dir
    goes, so that ``collect_store()`` always knows since when nothing links into the store any more.
    """
    result = {"converted": [], "kept": []}  # type: Dict[str, List[str]]
    todo = old_layout(shiv_root)
    if todo and not can_exchange(shiv_root):
        result["kept"] = todo
        return result
    store = store_dir(shiv_root)
    umask = os.umask(0o022)
    try:
        for cache in todo:
            staging = staging_dir(cache)
            links = store_links(cache)
            if links or os.path.lexists(staging):  # (a killed run may have exchanged the last symlink)
                _touch(os.path.join(store, CONVERTED))
            shutil.rmtree(staging, ignore_errors=True)  # links only
            os.mkdir(staging, 0o755)
            kept = False
            for name, entry in links:
                source = os.path.join(store, entry)
                if not os.path.isdir(source):  # a broken link of the earlier layout: not ours to repair
                    kept = True
                    continue
                built = os.path.join(staging, name)
                _link_tree(source, built, lambda path, pyc: not path.startswith(STORE_MARKER),
                           {"linked": 0, "pyc_linked": 0})
                if not exchange(built, os.path.join(cache, PREFIX, name)):
                    shutil.rmtree(built)
                    kept = True
                    break
                os.unlink(built)  # the symlink, exchanged out
            _touch(os.path.join(store, CONVERTED))
            shutil.rmtree(staging)
            result["kept" if kept else "converted"].append(cache)
    finally:
        os.umask(umask)
    return result


def _touch(path: str) -> None:
    """Set the mtime of ``path`` (a file, made when missing) to now, if its directory exists."""
    if os.path.isdir(os.path.dirname(path)):
        with open(path, "a"):
            pass
        os.utime(path, None)


def _boot_time() -> float:
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def older_processes(shiv_root: str, since: float) -> List[int]:
    """The processes of this app (``SHIV_ROOT=<shiv_root>`` in their environment, as every unit of it has)
    that started before ``since``, or up to a second after it: the boot time their start is counted from is
    known to the second only."""
    needle = ("\0SHIV_ROOT=%s\0" % shiv_root).encode("utf-8")
    boot, tick = _boot_time(), os.sysconf("SC_CLK_TCK")
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid, "rb") as f:
                started = boot + int(f.read().rsplit(b")", 1)[1].split()[19]) / float(tick)
            if started > since:  # it is at most a second earlier than the real start
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                if needle in b"\0" + f.read() + b"\0":
                    found.append(int(pid))
        except (IOError, OSError, ValueError, IndexError):  # gone meanwhile
            continue
    return found


def collect_store(shiv_root, kept_caches, check_mode=False):
    """Remove the store entries (and leftovers of killed runs) that no kept cache links to; the store goes
    with its last entry.

    After a conversion (the store's CONVERTED file) nothing is removed while a process of the app that started
    before it still runs: it may hold a path it resolved into the store (``realpath()`` of a file of a big
    package, in the earlier layout), which must keep working until it ends.  Such a store goes with a later
    deploy.
    """
    store = store_dir(shiv_root)
    try:
        entries = os.listdir(store)
    except OSError:
        return []
    used = set()  # type: Set[str]
    for cache in kept_caches:
        used |= shared_dirs(cache)
    doomed = sorted(e for e in entries if e not in used and e != CONVERTED)
    marker = os.path.join(store, CONVERTED)
    if os.path.exists(marker):
        try:
            if older_processes(shiv_root, os.path.getmtime(marker)):
                return []
        except (IOError, OSError, ValueError):  # no /proc to tell: keep it
            return []
    if not check_mode:
        for entry in doomed:
            path = os.path.join(store, entry)
            gone = path + ".removing" if not entry.endswith((".tmp", ".removing")) else path
            if gone != path:
                os.rename(path, gone)  # it never looks like a complete entry while it goes
            shutil.rmtree(gone, ignore_errors=True)
        if not used:
            if os.path.exists(marker):
                os.unlink(marker)
            try:
                os.rmdir(store)
            except OSError:
                pass
    return doomed
