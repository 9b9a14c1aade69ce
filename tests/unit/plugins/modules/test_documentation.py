"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse, and every description is text."""

import ast
import glob
import os

import pytest
import yaml

from ansible_collections.containerless.zipapp.plugins.doc_fragments.attributes import ModuleDocFragment as ATTRIBUTES

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


def attributes(doc):
    """The module's attributes, with those of the collection's attribute fragments it extends."""
    merged = {}
    for name in doc.get("extends_documentation_fragment", []):
        collection, dot_attributes, rest = name.partition(".attributes")
        if dot_attributes and collection == "containerless.zipapp":
            text = getattr(ATTRIBUTES, rest[1:].upper() if rest else "DOCUMENTATION")
            merged.update(yaml.safe_load(text)["attributes"])
    merged.update(doc.get("attributes", {}))
    return merged


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
    attrs = attributes(doc)
    assert attrs["check_mode"]["support"] in ("full", "partial", "none")
    assert attrs["diff_mode"]["support"] in ("full", "partial", "none", "N/A")
    assert attrs["platform"]["platforms"] in ("posix", "all")
    yaml.safe_load(d["EXAMPLES"])
    ret = yaml.safe_load(d["RETURN"])
    bad = [(w, v) for w, v in list(descriptions(doc, "DOCUMENTATION")) + list(descriptions(ret or {}, "RETURN"))
           if not isinstance(v, str)]
    assert not bad, bad
