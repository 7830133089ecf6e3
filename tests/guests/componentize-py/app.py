"""A Python program built into a WASI 0.2 command component by componentize-py (see build.sh).

usage: app.wasm [dir=GUEST_DIR] [fail]

Prints deterministic lines: some computations, its arguments, the variable GREETING and,
given dir=GUEST_DIR (a preopen), the sorted entries of that directory with each file's text.
With `fail`, `run` then returns an error (exit status 1 under a WASI 0.2 host).
"""
import hashlib
import json
import os
import sys

from componentize_py_types import Err
from wit_world import exports


def show_dir(path):
    names = sorted(os.listdir(path))
    print("dir", path, names)
    for name in names:
        full = os.path.join(path, name)
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                print("file", name, json.dumps(f.read()))


class Run(exports.Run):
    def run(self) -> None:
        print("sum", sum(i * i for i in range(1, 11)))
        print("sorted", sorted(["pear", "apple", "fig"], key=len))
        print("json", json.dumps({"b": [1, 2.5], "a": None, "c": "wasi"}, sort_keys=True))
        print("sha256", hashlib.sha256(b"lucet-wasi").hexdigest())
        print("argv", sys.argv)
        print("GREETING", os.environ.get("GREETING", "(unset)"))
        for arg in sys.argv[1:]:
            if arg.startswith("dir="):
                show_dir(arg[len("dir="):])
        if "fail" in sys.argv[1:]:
            print("failing")
            raise Err(None)
        print("py done")
