#!/usr/bin/env bash
# Build the example app as reproducible shiv zipapps (or pex files):
#   <outdir>/demoapp-<version>.pyz for each version in $VERSIONS, and <outdir>/SHA256SUMS.
#
# usage: examples/build.sh [OUTDIR]            (default OUTDIR: examples/dist)
#
# Environment:
#   PYTHON             interpreter for the build venv (default: python3)
#   VERSIONS           space-separated versions to build (default: "1.0.0 2.0.0")
#   FORMAT             pyz (shiv, the default) or pex: <outdir>/demoapp-<version>.pex, built with
#                      --include-tools so the deploy role can build the release's venv from it
#   WITH_ORJSON        1: build the "native JSON" variant: adds orjson (a compiled wheel
#                      of the build interpreter, see demoapp/variants/orjson/) and makes
#                      serve import it at startup, so the .pyz runs only on that CPython
#                      minor version (e.g. WITH_ORJSON=1 VERSIONS=1.1.0-orjson); default 0
#   WITH_PYUWSGI       1: add pyuwsgi (uWSGI, a compiled wheel of the build interpreter, see
#                      demoapp/variants/pyuwsgi/) for `demoapp.pyz pyuwsgi`, so the .pyz runs only on
#                      that CPython minor version (e.g. WITH_PYUWSGI=1 VERSIONS="1.0.0-pyuwsgi
#                      2.0.0-pyuwsgi"); default 0
#   SOURCE_DATE_EPOCH  timestamp of every file in the archives (default: the last
#                      commit touching examples/, else a constant)
#   XDG_CACHE_HOME     the build venv and staging copies live in
#                      ${XDG_CACHE_HOME:-$HOME/.cache}/containerless-zipapp/
#
# Reproducibility: the same version built from the same source by the same
# build venv path is byte-identical. The staging copy of the project lives at a
# fixed path (not mktemp), because pip records the path of a local project in
# demoapp-*.dist-info/direct_url.json, and the console scripts in bin/ carry
# the build venv's interpreter path in their shebang line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$here/demoapp"
outdir="${1:-$here/dist}"
python="${PYTHON:-python3}"
versions="${VERSIONS:-1.0.0 2.0.0}"
with_orjson="${WITH_ORJSON:-0}"
with_pyuwsgi="${WITH_PYUWSGI:-0}"
shiv_version="1.0.8"
pex_version="2.105.2"
format="${FORMAT:-pyz}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/containerless-zipapp"
venv="$cache/build-venv"
staging="$cache/staging"

log() { printf 'build.sh: %s\n' "$*" >&2; }

if [[ "$format" != pyz && "$format" != pex ]]; then
    log "FORMAT must be pyz or pex, not $format"
    exit 2
fi
if [[ "$with_orjson" != 0 && "$with_orjson" != 1 ]]; then
    log "WITH_ORJSON must be 0 or 1, not $with_orjson"
    exit 2
fi
if [[ "$with_pyuwsgi" != 0 && "$with_pyuwsgi" != 1 ]]; then
    log "WITH_PYUWSGI must be 0 or 1, not $with_pyuwsgi"
    exit 2
fi
# compiled wheels a variant adds (installed beside the pure-Python ones) and where they land in the pyz
native_requirements=()
native_allowed=()
if [[ "$with_orjson" == 1 ]]; then
    native_requirements+=("$project/variants/orjson/requirements.txt")
    native_allowed+=("site-packages/orjson/")
fi
if [[ "$with_pyuwsgi" == 1 ]]; then
    native_requirements+=("$project/variants/pyuwsgi/requirements.txt")
    native_allowed+=("site-packages/pyuwsgi")
fi
entry_point=demoapp.__main__:main
[[ "$with_orjson" == 0 ]] || entry_point=demoapp._features:main

# SOURCE_DATE_EPOCH: the last commit of examples/ if there is one, else a
# constant (2024-01-01T00:00:00Z). Zip timestamps cannot predate 1980.
if [[ -z "${SOURCE_DATE_EPOCH:-}" ]]; then
    SOURCE_DATE_EPOCH="$(git -C "$here" log -1 --format=%ct -- . 2>/dev/null || true)"
    SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1704067200}"
fi
export SOURCE_DATE_EPOCH

# Build venv with shiv and pex, reused across builds; recreated when $PYTHON or
# the shiv or pex version changes.
stamp="$("$python" -c 'import sys; print(sys.base_prefix, sys.version.split()[0])') shiv==$shiv_version pex==$pex_version"
if [[ ! -x "$venv/bin/shiv" ]] || [[ "$(cat "$venv/.containerless-stamp" 2>/dev/null)" != "$stamp" ]]; then
    log "creating build venv $venv ($stamp)"
    rm -rf "$venv"
    mkdir -p "$cache"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "shiv==$shiv_version" "pex==$pex_version"
    printf '%s\n' "$stamp" >"$venv/.containerless-stamp"
fi

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
mkdir -p "$staging"

# One build at a time per cache dir: the staging path is fixed.
exec 9>"$staging/.lock"
flock 9

built=()
for version in $versions; do
    if [[ ! "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+_-]*$ ]]; then
        log "invalid version: $version"
        exit 2
    fi
    src="$staging/demoapp-$version"
    rm -rf "$src"
    mkdir -p "$src"
    # Copy the project without build leftovers, then stamp the version.
    tar -C "$project" \
        --exclude=build --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.pyc' \
        --exclude=./variants \
        -cf - . | tar -C "$src" -xf -
    if [[ "$with_orjson" == 1 ]]; then
        # The variant: orjson beside the requirements, the features module (NATIVE_JSON = True) as
        # the entry point, which imports orjson at startup of serve.
        cp "$project/variants/orjson/_features.py" "$src/demoapp/_features.py"
    fi
    if [[ ${#native_requirements[@]} -gt 0 ]]; then
        # A version label of a variant that is not PEP 440 (1.1.0-orjson) becomes a local version for the
        # package (1.1.0+orjson).
        pkg_version="$("$venv/bin/python" - "$version" <<'EOF'
import re, sys
from pip._vendor.packaging.version import InvalidVersion, Version
v = sys.argv[1]
try:
    Version(v)
except InvalidVersion:
    v = re.sub(r"[-_]", ".", v.replace("-", "+", 1))
print(v)
EOF
)"
    else
            pkg_version="$version"
    fi
    printf '# Written by examples/build.sh\nVERSION = "%s"\n' "$pkg_version" >"$src/demoapp/_version.py"
    # The schema grows with the release: 2.0.0's additive migration is not part of a 1.x build.
    if [[ "${pkg_version%%.*}" -lt 2 ]]; then
        rm -f "$src"/demoapp/migrations/0002_*.py
    fi

    name="demoapp-$version.$format"
    log "building $name (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
    # pip picks only py3-none-any wheels with these tags, also for a package that has compiled ones (pydantic 1)
    pure=(--implementation py --abi none --platform any --python-version 3.11)
    if [[ "$format" == pex ]]; then
        # pex resolves the same pinned requirements, from a wheelhouse of their pure-Python wheels (and the
        # project's build backend, and wheel, which the pip that pex runs (20.3) needs to build the project), and
        # builds the project; its builds are reproducible on their own.
        rm -rf "$staging/wheelhouse"
        "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: "${pure[@]}" \
            --dest "$staging/wheelhouse" -r "$src/requirements.txt" "setuptools==80.9.0" "wheel==0.37.1" >"$staging/$name.log" 2>&1 || {
            cat "$staging/$name.log" >&2
            log "pip download failed for $name"
            exit 1
        }
        "$venv/bin/pex" --python "$venv/bin/python" --no-pypi --find-links "$staging/wheelhouse" \
            --python-shebang '/usr/bin/env python3' \
            -e "$entry_point" \
            --include-tools \
            -r "$src/requirements.txt" \
            "$src" \
            -o "$outdir/$name.tmp" >"$staging/$name.log" 2>&1 || {
            cat "$staging/$name.log" >&2
            log "pex failed for $name"
            exit 1
        }
    else
        # shiv passes the trailing arguments to "pip install --target"; pip's
        # download/wheel cache is used as usual (PIP_CACHE_DIR, ~/.cache/pip).
        # --only-binary and the tags of a pure-Python wheel: every dependency comes as a py3-none-any wheel,
        # also one that has compiled wheels too (pydantic 1); checked below. The orjson variant adds orjson's
        # compiled wheel for the build interpreter, installed beside them (--site-packages).
        native=()
        if [[ ${#native_requirements[@]} -gt 0 ]]; then
            rm -rf "$staging/$name.native"
            native_args=()
            for req in "${native_requirements[@]}"; do native_args+=(-r "$req"); done
            "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile --no-deps \
                --only-binary=:all: --target "$staging/$name.native" \
                "${native_args[@]}" >"$staging/$name.log" 2>&1 || {
                cat "$staging/$name.log" >&2
                log "pip failed for the compiled wheels of $name"
                exit 1
            }
            native=(--site-packages "$staging/$name.native")
        fi
        "$venv/bin/shiv" --reproducible --compressed "${native[@]}" \
            -p '/usr/bin/env python3' \
            -e "$entry_point" \
            -o "$outdir/$name.tmp" \
            --only-binary=:all: "${pure[@]}" \
            --disable-pip-version-check \
            -r "$src/requirements.txt" \
            "$src" >"$staging/$name.log" 2>&1 || {
            cat "$staging/$name.log" >&2
            log "shiv failed for $name"
            exit 1
        }
    fi

    # The same .pyz must run on every CPython >= 3.11: no compiled extensions
    # (a variant: none but its own).
    compiled="$("$venv/bin/python" - "$outdir/$name.tmp" "${native_allowed[@]}" <<'EOF'
import sys, zipfile
allowed = tuple(sys.argv[2:])
names = zipfile.ZipFile(sys.argv[1]).namelist()
print("\n".join(n for n in names if n.endswith((".so", ".pyd", ".dylib")) and not n.startswith(allowed)))
EOF
)"
    if [[ -n "$compiled" ]]; then
        log "$name contains compiled extensions, refusing:"
        printf '%s\n' "$compiled" >&2
        exit 1
    fi
    mv -f "$outdir/$name.tmp" "$outdir/$name"
    rm -rf "$src" "$staging/$name.log" "$staging/$name.native"
    built+=("$name")
done

(
    cd "$outdir"
    sha256sum -- "${built[@]}" >SHA256SUMS
    cat SHA256SUMS
)
log "done: $outdir"
