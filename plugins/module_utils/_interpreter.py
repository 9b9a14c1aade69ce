# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The target interpreter, asked what it is: a probe run with ``-I -S``, and summaries of its answer.

This is a private module_utils file: its interface may change without notice.
"""

import json

from ansible_collections.containerless.zipapp.plugins.module_utils._archive import ZipappInfoError
from ansible_collections.containerless.zipapp.plugins.module_utils._tags import platform_tags, supported_tags

# Runs under the target interpreter with ``-I -S`` (Python 3.6 to 3.14: no f-strings, no walrus, no
# subprocess.run(capture_output=...)) and prints one JSON object: what supported_tags() needs.
INTERPRETER_PROBE_CODE = r'''
import json, os, struct, sys, sysconfig

def config_var(name):
    try:
        return sysconfig.get_config_var(name)
    except Exception:
        return None

def elf_header(path):
    """Class, machine, flags and program interpreter (PT_INTERP) of an ELF executable."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return None
            bits = {1: 32, 2: 64}.get(head[4])
            end = {1: "<", 2: ">"}.get(head[5])
            if bits is None or end is None:
                return None
            machine = struct.unpack(end + "H", head[18:20])[0]
            if bits == 64:
                phoff = struct.unpack(end + "Q", head[32:40])[0]
                flags = struct.unpack(end + "I", head[48:52])[0]
                phentsize, phnum = struct.unpack(end + "HH", head[54:58])
            else:
                phoff = struct.unpack(end + "I", head[28:32])[0]
                flags = struct.unpack(end + "I", head[36:40])[0]
                phentsize, phnum = struct.unpack(end + "HH", head[42:46])
            interpreter = None
            for i in range(min(phnum, 256)):
                f.seek(phoff + i * phentsize)
                ph = f.read(phentsize)
                if bits == 64:
                    ptype = struct.unpack(end + "I", ph[0:4])[0]
                    offset, size = struct.unpack(end + "Q", ph[8:16])[0], struct.unpack(end + "Q", ph[32:40])[0]
                else:
                    ptype = struct.unpack(end + "I", ph[0:4])[0]
                    offset, size = struct.unpack(end + "I", ph[4:8])[0], struct.unpack(end + "I", ph[16:20])[0]
                if ptype == 3:  # PT_INTERP
                    f.seek(offset)
                    interpreter = f.read(min(size, 4096)).rstrip(b"\0").decode("ascii", "replace")
                    break
            return {"bits": bits, "endian": "little" if end == "<" else "big", "machine": machine,
                    "flags": flags, "interpreter": interpreter}
    except (IOError, OSError, ValueError, struct.error):
        return None

def glibc_version():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
        if value and value.split()[0] == "glibc":
            return value.split()[1]
    except (AttributeError, ValueError, OSError, IndexError):
        pass
    try:
        import ctypes
        func = ctypes.CDLL(None).gnu_get_libc_version
        func.restype = ctypes.c_char_p
        value = func()
        return value.decode("ascii") if isinstance(value, bytes) else value
    except Exception:
        return None

def musl_version(loader):
    """The loader of a musl-linked Python prints "musl libc (x86_64)\nVersion 1.2.4" when run."""
    import re, subprocess
    try:
        proc = subprocess.Popen([loader], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = proc.communicate()
    except (IOError, OSError):
        return None
    m = re.search(r"Version ([0-9]+\.[0-9]+(?:\.[0-9]+)?)", (err or b"").decode("utf-8", "replace"))
    return m.group(1) if m else None

try:
    from importlib.machinery import EXTENSION_SUFFIXES as suffixes
    suffixes = list(suffixes)
except ImportError:
    suffixes = []
elf = elf_header(sys.executable) if sys.platform.startswith("linux") else None
libc = None
if sys.platform.startswith("linux"):
    version = glibc_version()
    if version:
        libc = {"name": "glibc", "version": version}
    elif elf and elf.get("interpreter") and "musl" in elf["interpreter"]:
        libc = {"name": "musl", "version": musl_version(elf["interpreter"])}
probe = {
    "probe": 1,
    "executable": sys.executable,
    "implementation": sys.implementation.name,
    "version_info": list(sys.version_info),
    "version": sys.version.split()[0],
    "platform": sys.platform,
    "sysconfig_platform": sysconfig.get_platform(),
    "machine": os.uname()[4] if hasattr(os, "uname") else None,
    "maxsize": sys.maxsize,
    "pointer_size": struct.calcsize("P"),
    "soabi": config_var("SOABI"),
    "ext_suffix": config_var("EXT_SUFFIX"),
    "extension_suffixes": suffixes,
    "py_version_nodot": config_var("py_version_nodot"),
    "py_debug": config_var("Py_DEBUG"),
    "gettotalrefcount": hasattr(sys, "gettotalrefcount"),
    "gil_disabled": config_var("Py_GIL_DISABLED"),
    "with_pymalloc": config_var("WITH_PYMALLOC"),
    "libc": libc,
    "elf": elf,
}
if probe["implementation"] == "pypy":
    probe["pypy_version_info"] = list(sys.pypy_version_info)[:3]
print(json.dumps(probe))
'''

# the name issue 3 uses
interpreter_probe_code = INTERPRETER_PROBE_CODE


def probe_command(python):
    """The command that runs the probe with ``python``."""
    return [python, "-I", "-S", "-c", INTERPRETER_PROBE_CODE]


def parse_probe(text):
    """The probe's JSON output as a dict (ZipappInfoError if it is not)."""
    try:
        probe = json.loads(text)
    except ValueError:
        probe = None
    if not isinstance(probe, dict) or not probe.get("implementation") or len(probe.get("version_info") or []) < 3:
        raise ZipappInfoError("the interpreter probe printed no usable answer: %s" % (text or "").strip()[-500:])
    return probe


_DISPLAY_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy", "ironpython": "IronPython"}


def describe_interpreter(probe, tags=None):
    """A short summary of the probed interpreter."""
    tags = supported_tags(probe) if tags is None else tags
    libc = probe.get("libc") or {}
    return {
        "executable": probe.get("executable"),
        "implementation": _DISPLAY_NAMES.get(probe["implementation"], probe["implementation"]),
        "version": probe.get("version") or ".".join(str(v) for v in probe["version_info"][:3]),
        "platform": platform_tags(probe)[0],
        "libc": ("%s %s" % (libc.get("name"), libc.get("version") or "?")) if libc else None,
        "abi": tags[0].split("-")[1] if tags else None,
        "best_tag": tags[0] if tags else None,
        "tag_count": len(tags),
        "platforms": platform_tags(probe),
    }


def interpreter_label(probe):
    """``CPython 3.13.5``."""
    return "%s %s" % (_DISPLAY_NAMES.get(probe["implementation"], probe["implementation"]),
                      probe.get("version") or ".".join(str(v) for v in probe["version_info"][:3]))
