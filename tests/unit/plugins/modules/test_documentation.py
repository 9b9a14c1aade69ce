"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse, and every description is text."""

import ast
import glob
import os

import pytest
import yaml

MODULES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules", "*.py")))


def docs(path):
    tree = ast.parse(open(path).read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    out[target.id] = node.value.value
    return out


def descriptions(node, where):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description":
                items = value if isinstance(value, list) else [value]
                for item in items:
                    yield "%s.description" % where, item
            else:
                yield from descriptions(value, "%s.%s" % (where, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from descriptions(item, "%s[%d]" % (where, i))


@pytest.mark.parametrize("path", MODULES, ids=[os.path.basename(m) for m in MODULES])
def test_module_documentation(path):
    d = docs(path)
    assert set(d) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    doc = yaml.safe_load(d["DOCUMENTATION"])
    assert doc["module"] == os.path.basename(path)[:-3]
    assert "check_mode" in doc["attributes"]
    yaml.safe_load(d["EXAMPLES"])
    ret = yaml.safe_load(d["RETURN"])
    bad = [(w, v) for w, v in list(descriptions(doc, "DOCUMENTATION")) + list(descriptions(ret or {}, "RETURN"))
           if not isinstance(v, str)]
    assert not bad, bad
