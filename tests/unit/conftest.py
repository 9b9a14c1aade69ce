"""Make ``ansible_collections.containerless.zipapp`` importable from this checkout.

Under ``ansible-test units`` the collection already lives in an ansible_collections tree; when
pytest runs from a plain checkout, link the checkout into a temporary one.
"""

import importlib
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

try:
    importlib.import_module("ansible_collections.containerless.zipapp")
except ImportError:
    tree = tempfile.mkdtemp(prefix="zipapp-collections-")
    os.makedirs(os.path.join(tree, "ansible_collections", "containerless"))
    os.symlink(ROOT, os.path.join(tree, "ansible_collections", "containerless", "zipapp"))
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
