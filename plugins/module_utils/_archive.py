# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a zipapp bundles: every distribution with its wheel tags and ``Requires-Python``.

This is a private module_utils file: its interface may change without notice.

shiv: ``site-packages/*.dist-info``; pex: the wheel names in ``PEX-INFO``.
"""

import csv
import io
import json
import posixpath
import zipfile

from ansible_collections.containerless.zipapp.plugins.module_utils._tags import (
    canonical_name,
    expand_tag,
    is_compiled,
    parse_wheel_filename,
)


def short_list(items, limit=6):
    """``a, b, c (+2 more)``."""
    items = list(items)
    shown = ", ".join(items[:limit])
    return shown + (" (+%d more)" % (len(items) - limit) if len(items) > limit else "")


class ZipappInfoError(Exception):
    """The archive or the interpreter cannot be inspected."""


def _headers(data):
    """RFC 822 style headers of METADATA / WHEEL / PKG-INFO: lower-cased name -> list of values."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    headers = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            break  # the body (description) starts
        if line[:1] in (" ", "\t") and last is not None:
            headers[last][-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = key.strip().lower()
        headers.setdefault(last, []).append(value.strip())
    return headers


def _first(headers, key):
    values = headers.get(key)
    return values[0] if values else None


def _record_paths(data):
    """The files listed in a dist-info RECORD, normalized."""
    text = data.decode("utf-8", "replace")
    paths = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0]:
            paths.append(posixpath.normpath(row[0]))
    return paths


def _dist_infos(names, prefix):
    """``<prefix><name>.dist-info`` / ``.egg-info`` directories among the archive's names."""
    found = set()
    for n in names:
        if not n.startswith(prefix):
            continue
        head = n[len(prefix):].split("/", 1)[0]
        if head.endswith((".dist-info", ".egg-info")) and "/" in n[len(prefix):]:
            found.add(head)
    return sorted(found)


def _installed_distributions(zf, names, prefix):
    """The distributions installed under ``prefix`` (shiv's site-packages, a plain zipapp's root)."""
    name_set = set(names)
    compiled_all = sorted(n[len(prefix):] for n in names if n.startswith(prefix) and is_compiled(n))
    infos = _dist_infos(names, prefix)
    records = {}
    for info in infos:
        rec = prefix + info + "/RECORD"
        if rec in name_set:
            records[info] = _record_paths(zf.read(rec))
    claimed = set(p for paths in records.values() for p in paths)
    dists = []
    for info in infos:
        base = prefix + info + "/"
        meta_file = base + ("PKG-INFO" if info.endswith(".egg-info") else "METADATA")
        meta = _headers(zf.read(meta_file)) if meta_file in name_set else {}
        stem = info.rsplit(".", 1)[0]
        fallback_name, dummy, fallback_version = stem.partition("-")
        dist = {
            "name": _first(meta, "name") or fallback_name,
            "version": _first(meta, "version") or fallback_version.split("-")[0] or None,
            "requires_python": _first(meta, "requires-python") or None,
            "source": prefix + info,
            "tags": None,
        }
        wheel_file = base + "WHEEL"
        if wheel_file in name_set:
            tags = []
            for value in _headers(zf.read(wheel_file)).get("tag", []):
                try:
                    tags.extend(t for t in expand_tag(value) if t not in tags)
                except ValueError:
                    pass
            if tags:
                dist["tags"] = tags
            else:
                dist["tags_unknown"] = "its WHEEL file has no valid Tag: line"
        else:
            # installed from an sdist (no WHEEL): pure Python only if nothing it installed is compiled
            if info in records:
                own = [p for p in records[info] if is_compiled(p)]
            else:
                own = [p for p in compiled_all if p not in claimed]
            if own:
                dist["tags_unknown"] = ("it was not installed from a wheel (no WHEEL file) and has compiled "
                                        "extensions (%s)" % short_list(own, 3))
                dist["compiled"] = own
            else:
                dist["tags"] = ["py3-none-any"]
                dist["assumed_pure"] = True
        dists.append(dist)
    return dists


def _pex_distributions(zf, names, pex_info):
    name_set = set(names)
    # .deps/<wheel file name>/<project>-<version>.dist-info/METADATA (pex installs each wheel there)
    metadata_files = {}
    for n in names:
        parts = n.split("/")
        if len(parts) == 4 and parts[0] == ".deps" and parts[2].endswith(".dist-info") and parts[3] == "METADATA":
            metadata_files.setdefault(parts[1], n)
    dists = []
    for whl in sorted(pex_info.get("distributions") or {}):
        dist = {"name": None, "version": None, "requires_python": None, "source": ".deps/" + whl, "tags": None}
        try:
            dist["name"], dist["version"], dist["tags"] = parse_wheel_filename(whl)
        except ValueError as e:
            dist["name"] = whl
            dist["tags_unknown"] = str(e)
        meta = zf.read(metadata_files[whl]) if whl in metadata_files else None
        if meta is None and ".deps/" + whl in name_set:
            # pex --no-pre-install-wheels: the wheel file itself
            try:
                with zipfile.ZipFile(io.BytesIO(zf.read(".deps/" + whl))) as wz:
                    for n in wz.namelist():
                        if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                            meta = wz.read(n)
                            break
            except zipfile.BadZipfile:
                pass
        if meta is not None:
            headers = _headers(meta)
            dist["requires_python"] = _first(headers, "requires-python") or None
            dist["name"] = _first(headers, "name") or dist["name"]
        dists.append(dist)
    return dists


def inspect_archive(path):
    """Describe the zipapp at ``path`` (a zip, possibly after a shebang line) and what it bundles.

    This is the one reader of an artifact's contents: the deploy (which kind to prepare, its build id)
    and the compatibility check use it alike.  Returns a dict: ``kind`` (``pex``, ``shiv`` or ``zipapp``),
    ``build_id``, ``entry_point``, ``shebang``, ``includes_tools``/``pex_version``/``interpreter_constraints``
    (pex), ``shiv_version`` (shiv) and ``distributions``, each with ``name``,
    ``version``, ``tags`` (expanded wheel tags, or None when unknown, with ``tags_unknown`` saying
    why), ``requires_python`` and ``source`` (where in the archive it was found).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(512)
        zf = zipfile.ZipFile(path)
    except (IOError, OSError, zipfile.BadZipfile) as e:
        raise ZipappInfoError("%s is not a zip application: %s" % (path, e))
    shebang = None
    if head.startswith(b"#!"):
        shebang = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    info = {"path": path, "shebang": shebang, "interpreter_constraints": []}
    try:
        with zf:
            names = zf.namelist()
            name_set = set(names)
            # PEX-INFO first: it is what makes a pex, whatever else the archive holds
            if "PEX-INFO" in name_set:
                try:
                    pex_info = json.loads(zf.read("PEX-INFO").decode("utf-8"))
                except ValueError as e:
                    raise ZipappInfoError("%s: PEX-INFO is not JSON: %s" % (path, e))
                info.update(kind="pex", build_id=pex_info.get("pex_hash") or pex_info.get("code_hash"),
                            entry_point=pex_info.get("entry_point") or pex_info.get("script"),
                            includes_tools=bool(pex_info.get("includes_tools")),
                            pex_version=(pex_info.get("build_properties") or {}).get("pex_version"),
                            interpreter_constraints=list(pex_info.get("interpreter_constraints") or []),
                            distributions=_pex_distributions(zf, names, pex_info))
            elif "environment.json" in name_set and any(n.startswith("_bootstrap/") for n in names):
                try:
                    env = json.loads(zf.read("environment.json").decode("utf-8"))
                except ValueError as e:
                    raise ZipappInfoError("%s: environment.json is not JSON: %s" % (path, e))
                info.update(kind="shiv", build_id=env.get("build_id"), shiv_version=env.get("shiv_version"),
                            entry_point=env.get("entry_point") or env.get("script"),
                            distributions=_installed_distributions(zf, names, "site-packages/"))
            elif "__main__.py" in name_set:
                info.update(kind="zipapp", build_id=None, entry_point="__main__.py",
                            distributions=_installed_distributions(zf, names, ""))
            else:
                raise ZipappInfoError("%s has neither shiv's environment.json, a PEX-INFO nor a __main__.py: "
                                      "not a runnable zipapp" % path)
    except (zipfile.BadZipfile, KeyError, IOError, OSError) as e:
        raise ZipappInfoError("%s cannot be read: %s" % (path, e))
    info["distributions"].sort(key=lambda d: (canonical_name(d["name"] or ""), d["source"]))
    return info
