#!/usr/bin/env python3
"""Lists import cycles among the files of lucet-wasi/src.

A file depends on another when it names an item of it: `crate::module::...`,
`super::...`, or a name the crate root re-exports from it (`crate::Error`). Prints each
cycle; exits 1 if there is any.
"""
import os, re, sys

SRC = os.path.join(os.path.dirname(__file__), "..", "lucet-wasi", "src")

def mod_path(rel):
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)

files = {}
for root, _, names in os.walk(SRC):
    for n in names:
        if n.endswith(".rs"):
            rel = os.path.relpath(os.path.join(root, n), SRC)
            if rel != "main.rs":
                files[mod_path(rel)] = open(os.path.join(root, n)).read()

def strip(text):
    # Comments and doc comments do not import anything.
    return "\n".join(l.split("//")[0] for l in text.split("\n"))

# Names re-exported by a module from one of its children: `pub use child::{A, B}`.
reexports = {}
for mod, text in files.items():
    for m in re.finditer(r"pub(?:\(crate\))? use ([a-z_:]+)::\{?([A-Za-z_, \n]+)\}?;", strip(text)):
        origin, names = m.group(1), m.group(2)
        base = mod + "::" if mod else ""
        if origin.startswith("crate::"):
            target = origin[len("crate::"):]
        elif origin.startswith("super::"):
            target = "::".join(mod.split("::")[:-1] + [origin[len("super::"):]]).strip(":")
        else:
            target = base + origin
        for name in names.split(","):
            name = name.split()[0] if name.split() else ""
            if name and name != "self":
                reexports[(mod, name)] = target

def resolve(path):
    """The file (module path) a `a::b::C` path from the crate root lands in."""
    parts = path.split("::")
    mod = ""
    for i, p in enumerate(parts):
        cand = (mod + "::" + p).strip(":")
        if cand in files:
            mod = cand
            continue
        if (mod, p) in reexports:
            # Follow the re-export to where the item is defined.
            return resolve("::".join([reexports[(mod, p)]] + parts[i:]))
        break
    return mod

deps = {m: set() for m in files}
for mod, text in files.items():
    code = strip(text)
    for m in re.finditer(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)", code):
        head, rest = m.group(1), m.group(2)[2:]
        if head == "super":
            parent = "::".join(mod.split("::")[:-1]) if "::" in mod else ""
            full = (parent + "::" + rest).strip(":")
        else:
            full = rest
        target = resolve(full)
        # A module's own children and its parent's re-export list are not imports.
        if target and target != mod and not target.startswith(mod + "::") and not mod.startswith(target + "::") and target != "":
            deps[mod].add(target)
    # `use super::{a, b}` lists
    for m in re.finditer(r"use (crate|super)::\{([^}]*)\}", code):
        head = m.group(1)
        parent = "::".join(mod.split("::")[:-1]) if head == "super" else ""
        for name in m.group(2).split(","):
            name = name.split()[0].split("::")[0] if name.split() else ""
            if not name or name == "self":
                continue
            target = resolve((parent + "::" + name).strip(":"))
            if target and target != mod and not target.startswith(mod + "::") and not mod.startswith(target + "::"):
                deps[mod].add(target)

# Cycles: strongly connected components with more than one file.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in deps[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1:
            sccs.append(comp)
sys.setrecursionlimit(10000)
for v in deps:
    if v not in index:
        visit(v)
if "-v" in sys.argv:
    for m in sorted(deps):
        print(f"{m or 'lib'} -> {', '.join(sorted(d or 'lib' for d in deps[m]))}")
for comp in sccs:
    edges = [f"{a} -> {b}" for a in comp for b in deps[a] if b in comp]
    print("cycle:", ", ".join(sorted(comp)), "|", "; ".join(edges))
sys.exit(1 if sccs else 0)
