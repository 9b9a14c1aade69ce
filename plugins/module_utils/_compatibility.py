# -*- coding: utf-8 -*-
# Copyright (c) containerless.zipapp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can this interpreter run this zipapp?  Checked before the swap, not found out at import time.

This is a private module_utils file: its interface may change without notice.

A shiv ``.pyz`` (or a ``.pex``) with compiled wheels runs only on the CPython minor version, ABI and
platform its wheels were built for; on another interpreter it fails late, at the first import of the
extension module (``ModuleNotFoundError``).  :func:`check` puts together what :mod:`._archive` read from
the archive, what :mod:`._interpreter`'s probe reported, the tags :mod:`._tags` computes and the
``Requires-Python`` that :mod:`._specifiers` evaluates: every problem names the distribution and the reason.
"""

from ansible_collections.containerless.zipapp.plugins.module_utils._archive import short_list
from ansible_collections.containerless.zipapp.plugins.module_utils._interpreter import interpreter_label
from ansible_collections.containerless.zipapp.plugins.module_utils._specifiers import (
    SpecifierError,
    constraint_ok,
    requires_python_ok,
)
from ansible_collections.containerless.zipapp.plugins.module_utils._tags import (
    canonical_name,
    compress_tags,
    platform_tags,
    supported_tags,
)


def _needs(probe, tags):
    """CPython 3.13.5 (linux_x86_64, glibc 2.41; it needs e.g. cp313-cp313-manylinux_2_41_x86_64)."""
    libc = probe.get("libc") or {}
    where = platform_tags(probe)[0]
    if libc:
        where += ", %s %s" % (libc.get("name"), libc.get("version") or "?")
    example = next((t for t in tags if not t.split("-", 2)[2].startswith("linux_")), tags[0] if tags else "?")
    return "%s (%s; it needs e.g. %s)" % (interpreter_label(probe), where, example)


def _constraint_problems(constraints, probe):
    if not constraints:
        return []
    errors, ok = [], False
    for constraint in constraints:
        try:
            ok = constraint_ok(constraint, probe) or ok
        except SpecifierError as e:
            errors.append("the pex's interpreter constraint %r cannot be parsed: %s" % (constraint, e))
    if errors:
        return errors
    if not ok:
        return ["the pex's interpreter constraints %s exclude %s" % (" or ".join(constraints), interpreter_label(probe))]
    return []


def _check_distribution(dists, probe, tags, rank, release):
    """(result, problems) of one project (pex: all its wheels; it fits when one of them does)."""
    key = canonical_name(dists[0].get("name") or "")
    name = dists[0].get("name") or key
    version = "/".join(sorted(set(d.get("version") or "?" for d in dists)))
    title = "%s %s" % (name, version)
    result = {"name": name, "version": version, "compatible": False, "tag": None}
    fitting = []
    for d in dists:
        matched = [t for t in (d.get("tags") or []) if t in rank]
        if matched:
            fitting.append((min(matched, key=rank.get), d))
    fitting.sort(key=lambda pair: rank[pair[0]])
    problems = []
    for tag, d in fitting:
        spec = d.get("requires_python")
        try:
            if not spec or requires_python_ok(spec, release):
                result.update(compatible=True, tag=tag)
                return result, []
            problems.append("%s: Requires-Python %s excludes %s %s"
                            % (title, spec, interpreter_label(probe).split()[0], ".".join(str(v) for v in release)))
        except SpecifierError as e:
            problems.append("%s: Requires-Python %r cannot be parsed (%s), so it cannot be checked against %s"
                            % (title, spec, e, interpreter_label(probe)))
    if not fitting:
        known = []
        for d in dists:
            known.extend(t for t in d.get("tags") or [] if t not in known)
        if known:
            problems.append("%s has only %s wheels, none of which %s can load"
                            % (title, short_list(compress_tags(known)), _needs(probe, tags)))
        for d in dists:
            if d.get("tags") is None:
                problems.append("%s: its wheel tags are unknown because %s, so it cannot be checked against %s "
                                "(build the zipapp from wheels)"
                                % (title, d.get("tags_unknown") or "it has none", interpreter_label(probe)))
    seen = set()
    problems = [p for p in problems if not (p in seen or seen.add(p))]
    result["problems"] = problems
    return result, problems


def check(archive_info, probe, tags=None):
    """Whether the probed interpreter can run everything ``archive_info`` bundles.

    Returns ``compatible``, ``problems`` (one sentence per problem, each naming the distribution
    and why) and ``distributions`` (per project: ``compatible``, the best matching ``tag`` and its
    ``problems``).  A distribution (pex: any one of its wheels) fits when one of its wheel tags is
    supported and its ``Requires-Python`` admits the interpreter's release.
    """
    tags = supported_tags(probe) if tags is None else list(tags)
    rank = {}
    for i, t in enumerate(tags):
        rank.setdefault(t, i)
    release = tuple(int(v) for v in probe["version_info"][:3])
    problems = _constraint_problems(archive_info.get("interpreter_constraints"), probe)
    groups = {}
    for dist in archive_info.get("distributions") or []:
        groups.setdefault(canonical_name(dist.get("name") or ""), []).append(dist)
    results = []
    for key in sorted(groups):
        result, found = _check_distribution(groups[key], probe, tags, rank, release)
        results.append(result)
        problems.extend(found)
    return {"compatible": not problems, "problems": problems, "distributions": results}
