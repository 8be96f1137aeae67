#!/usr/bin/env python3
"""Converts a YAML document (api-docs/openapi.yaml) into JSON, for the build.

Usage: yaml2json.py IN.yaml OUT.json

Keys keep their order; the output is written to OUT.json.tmp and renamed, so
an interrupted build never leaves half a file. Needs python3-yaml (Debian).
"""
import json
import os
import sys

import yaml


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: yaml2json.py IN.yaml OUT.json")
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        try:
            doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            sys.exit(f"{src}: {e}")
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
