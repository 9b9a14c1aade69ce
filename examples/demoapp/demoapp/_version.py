# Rewritten by examples/build.sh for every build; keep it a single assignment.
VERSION = "0.0.0"
