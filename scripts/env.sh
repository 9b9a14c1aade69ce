# Source me: the environment the demo, the tests and the bench run in (after scripts/setup).
_zipapp_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_zipapp_repo/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$_zipapp_repo/.cache/collections"
export ANSIBLE_PIPELINING=true
export ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0
export ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
export ZIPAPP_DIST="$_zipapp_repo/examples/dist"
unset _zipapp_repo
