import os

import yaml

from ansible_collections.containerless.zipapp.plugins.action.zipapp_validate import (
    COLLECTION_ROOT,
    collection_variables,
)
from ansible_collections.containerless.zipapp.plugins.plugin_utils._validate_deploy import DEPLOY_CHECKS


def role_spec(role, entry="main"):
    with open(os.path.join(COLLECTION_ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
        return yaml.safe_load(f)["argument_specs"][entry]["options"]


def role_defaults(role):
    with open(os.path.join(COLLECTION_ROOT, "roles", role, "defaults", "main.yml")) as f:
        return yaml.safe_load(f) or {}


def test_known_variables_come_from_every_role_spec():
    known = collection_variables()
    assert set(role_spec("deploy")) <= known
    assert "zipapp_hosts" in known
    assert "zipapp_python_executable" in known  # the python role's fact
    assert "zipapp_keep_relases" not in known


def test_every_variable_a_playbook_reads_is_known():
    """A zipapp_* variable the collection's playbooks read must not be refused as a typo."""
    import glob
    import re
    known = collection_variables()
    used = set()
    for playbook in glob.glob(os.path.join(COLLECTION_ROOT, "playbooks", "*.yml")):
        with open(playbook) as f:
            used.update(re.findall(r"(?<![.\w])(zipapp_[a-z0-9_]+)(?!:)", f.read()))
    assert {"zipapp_serial", "zipapp_max_fail_percentage"} <= used
    assert sorted(used - known) == []


def test_every_checked_variable_is_documented():
    assert set(DEPLOY_CHECKS) <= set(role_spec("deploy"))


def test_defaults_and_argument_specs_are_in_sync():
    """Every default is documented, and every optional documented variable has a default."""
    for role in sorted(os.listdir(os.path.join(COLLECTION_ROOT, "roles"))):
        spec = role_spec(role)
        defaults = role_defaults(role)
        assert set(defaults) <= set(spec), "%s: undocumented defaults %s" % (role, set(defaults) - set(spec))
        optional = set(k for k, v in spec.items() if not v.get("required"))
        assert optional == set(defaults), "%s: documented without default: %s" % (role, optional - set(defaults))
        for name in defaults:
            if "{{" not in str(defaults[name]):  # templated defaults are documented as text
                assert spec[name].get("default") == defaults[name], "%s: %s default differs" % (role, name)


def test_every_variable_is_in_the_readme_tables():
    with open(os.path.join(COLLECTION_ROOT, "README.md")) as f:
        readme = f.read()
    for role in sorted(os.listdir(os.path.join(COLLECTION_ROOT, "roles"))):
        missing = [name for name in role_spec(role) if "| `%s` |" % name not in readme]
        assert not missing, "README.md does not document %s of the %s role" % (missing, role)


def test_argument_specs_parse_and_every_description_is_text():
    for role in sorted(os.listdir(os.path.join(COLLECTION_ROOT, "roles"))):
        with open(os.path.join(COLLECTION_ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
            specs = yaml.safe_load(f)["argument_specs"]
        for entry, spec in specs.items():
            for name, option in spec["options"].items():
                desc = option.get("description")
                items = desc if isinstance(desc, list) else [desc]
                assert all(isinstance(d, str) for d in items), "%s %s %s" % (role, entry, name)
