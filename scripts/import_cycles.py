#!/usr/bin/env python3
"""Checks how the files and top-level modules of lucet-wasi/src import each other.

A file depends on another when it names an item of it: `crate::a::B`, `super::B`, an
entry of a `use crate::{a::B, c::{D, E}}` group, or a name that a module re-exports from
it (`crate::Error` is in error/, `crate::GuestMemory` in hostcall/memory.rs). Comments and
strings import nothing. `src/bin/` (the CLI, a crate of its own that uses only the public
API) and a top-level `main.rs` are left out. Three checks:

  file cycles    no cycle among files (a module and its own children excepted);
  module cycles  no cycle among top-level modules: `engine/`, `store.rs`, ... (lib.rs,
                 the crate root, only re-exports and is none of them);
  layering       a top-level module imports only the modules LAYERS below allows it,
                 and every top-level module is in LAYERS.

Prints each problem and a summary line; exits 1 if there is any. -v also prints the file
and module graphs, --src DIR checks another tree, --self-test checks this script.
"""
import argparse, contextlib, io, os, re, sys, tempfile

# Which top-level modules each top-level module may import, bottom to top.
# README's "Layout" section shows the same rules: change both together.
LAYERS = {
    "size": [],
    "error": ["size"],
    "wasi": [],
    "hostcall": ["error", "size", "wasi"],
    "observe": ["error", "size", "wasi", "hostcall"],
    "engine": ["error", "size"],
    "store": ["error", "size", "wasi", "hostcall", "observe"],
    "component": ["error", "size", "wasi", "engine", "store"],
    "module": ["error", "size", "wasi", "hostcall", "observe", "engine", "store", "component"],
    "instance": ["error", "size", "wasi", "hostcall", "observe", "engine", "store", "component", "module"],
}

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lucet-wasi", "src")
# Comments, strings and char literals: they import nothing (and may hold braces).
NOISE = re.compile(r'\bb?r(#*)"[\s\S]*?"\1|b?"(?:\\[\s\S]|[^"\\])*"'
                   r"|b?'(?:\\.|[^'\\])'|/\*[\s\S]*?\*/|//[^\n]*")
USE = re.compile(r"\b(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);")
PATH = re.compile(r"\b(?:crate|super)(?:::\w+)+")
ITEM = r"\b(?:fn|struct|enum|union|trait|type|const|static|mod|macro_rules!)\s+{}\b"


def join(*parts):
    return "::".join(p for p in parts if p)


def top(mod):
    """The top-level module a module path is in; `lib` for the crate root."""
    return mod.split("::")[0] or "lib"


def load(src):
    """{module path: (file relative to src, code without comments and strings)}."""
    files = {}
    for root, dirs, names in os.walk(src):
        dirs.sort()
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(root, n), src).replace(os.sep, "/")
            if not n.endswith(".rs") or rel == "main.rs" or rel.startswith("bin/"):
                continue
            parts = rel[:-3].split("/")
            if parts[-1] == "mod" or rel == "lib.rs":
                parts = parts[:-1]
            with open(os.path.join(root, n), encoding="utf-8") as f:
                files["::".join(parts)] = (rel, NOISE.sub(" ", f.read()))
    return files


def inline_mods(code):
    """(start, end, name) of each `mod name { ... }` written inside a file."""
    spans, stack = [], []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{|[{}]", code):
        if m.group(0) != "}":
            stack.append((m.start(), m.group(1)))
        elif stack:
            start, name = stack.pop()
            if name:
                spans.append((start, m.end(), name))
    return sorted(spans)


def absolute(here, path):
    """The path from the crate root that `path`, written in module `here`, names."""
    parts = path.split("::")
    if parts[0] == "crate":
        return parts[1:]
    base = here.split("::") if here else []
    while parts and parts[0] in ("self", "super"):
        if parts.pop(0) == "super":
            base = base[:-1]
    return base + parts


def split_top(s):
    """`a, b::{c, d}` -> ["a", "b::{c, d}"]: splits at commas outside braces."""
    parts, depth, cur = [], 0, ""
    for c in s:
        if c == "," and depth == 0:
            parts, cur = parts + [cur], ""
        else:
            depth, cur = depth + {"{": 1, "}": -1}.get(c, 0), cur + c
    return [p.strip() for p in parts + [cur] if p.strip()]


def expand(tree, prefix=""):
    """`a::{b::C, d::{E as F}, self}` -> [("a::b::C", "C"), ("a::d::E", "F"), ("a", "a")]."""
    tree = re.sub(r"\s*::\s*", "::", " ".join(tree.split()))
    if tree.endswith("}") and "{" in tree:
        head, _, inner = tree[:-1].partition("{")
        return [x for part in split_top(inner) for x in expand(part, join(prefix, head.rstrip(":")))]
    path, _, alias = tree.partition(" as ")
    full = prefix if path == "self" else join(prefix, path)
    return [(full, alias.strip() or full.split("::")[-1])]


def references(files):
    """The crate paths each file names, as written and from the root; the re-exports."""
    refs = {mod: [] for mod in files}  # file -> [(path as written, path from the root)]
    reexports, globs = {}, {}  # (module, name) -> path from the root; module -> [paths]
    for mod, (_, code) in files.items():
        spans = inline_mods(code)
        def here(pos):
            return join(mod, *(name for s, e, name in spans if s <= pos < e))
        for m in USE.finditer(code):
            at = here(m.start())
            for path, name in expand(m.group(2)):
                first = path.split("::")[0]
                if first in ("crate", "self", "super"):
                    parts = absolute(at, path)
                elif join(at, first) in files:  # a child module, e.g. lib.rs's `pub use error::Error`
                    parts = absolute(at, "self::" + path)
                else:
                    continue  # another crate
                refs[mod].append((path, parts))
                if m.group(1) and name == "*":
                    globs.setdefault(at, []).append(parts[:-1])
                elif m.group(1):
                    reexports[(at, name)] = parts
        code = USE.sub(lambda m: " " * len(m.group(0)), code)  # keeps positions for here()
        refs[mod] += [(m.group(0), absolute(here(m.start()), m.group(0))) for m in PATH.finditer(code)]
    return refs, reexports, globs


def analyse(src):
    """The file graph and module graph of the tree at `src`, and its problems to print."""
    files = load(src)
    if "" not in files:
        sys.exit(f"import check: no lib.rs in {src}")
    refs, reexports, globs = references(files)

    def resolve(parts, depth=0):
        """The file (module path) the item at `parts`, a path from the root, is defined in."""
        mod = ""
        for i, p in enumerate(parts):
            if join(mod, p) in files:
                mod = join(mod, p)
                continue
            via = reexports.get((mod, p))
            if via is None and depth < 20:  # `pub use child::*`: the child that defines p
                item = re.compile(ITEM.format(re.escape(p)))
                via = next((g + [p] for g in globs.get(mod, [])
                            if item.search(files.get(resolve(g, depth + 1), ("", ""))[1])), None)
            if via is not None and depth < 20:
                return resolve(via + parts[i + 1:], depth + 1)
            break
        return mod

    def related(a, b):  # one contains the other: a parent and its own children
        return a == b or not a or not b or a.startswith(b + "::") or b.startswith(a + "::")

    graph = {mod: {} for mod in files}  # file -> {file it uses: path as written}
    modules = {top(m): {} for m in files if top(m) != "lib"}  # -> {module: (file, path)}
    bad = {}  # (file, module it may not use) -> (its module, path as written)
    for mod, rs in refs.items():
        for text, parts in rs:
            target = resolve(parts)
            if not related(mod, target):
                graph[mod].setdefault(target, text)
            a, b = top(mod), top(target)
            if a == b or "lib" in (a, b):
                continue
            modules[a].setdefault(b, (files[mod][0], text))
            if a in LAYERS and b not in LAYERS[a]:
                where = "" if parts[:1] == [b] else f", in {b}"
                bad.setdefault((files[mod][0], b), (a, text + where))

    name = lambda m: files[m][0]
    problems = {"file cycles": [], "module cycles": [], "layering violations": []}
    for comp in cycles(graph):
        edges = [f"{name(a)} -> {name(b)} ({graph[a][b]})" for a in comp for b in sorted(graph[a]) if b in comp]
        problems["file cycles"].append(f"file cycle: {', '.join(map(name, comp))} | {'; '.join(edges)}")
    for comp in cycles(modules):
        edges = [f"{a} -> {b} ({modules[a][b][0]}: {modules[a][b][1]})"
                 for a in comp for b in sorted(modules[a]) if b in comp]
        problems["module cycles"].append(f"module cycle: {', '.join(comp)} | {'; '.join(edges)}")
    for m in sorted(set(modules) - set(LAYERS)):
        problems["layering violations"].append(
            f"layering: top-level module {m} is not in LAYERS (add it to the table in scripts/import_cycles.py)")
    for (rel, b), (a, text) in sorted(bad.items()):
        problems["layering violations"].append(
            f"layering: {rel} refers to {text} ({a} may import: {', '.join(LAYERS[a]) or 'nothing'})")
    files_graph = {name(a): sorted(name(b) for b in bs) for a, bs in graph.items()}
    return files_graph, {a: sorted(bs) for a, bs in modules.items()}, problems


def cycles(graph):
    """The strongly connected components of more than one node, each sorted (Tarjan)."""
    index, low, stack, out = {}, {}, [], []
    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = stack[stack.index(v):]
            del stack[stack.index(v):]
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def check(src, verbose=False):
    """Prints the problems of the tree at `src` and a summary; True if there are none."""
    files, modules, problems = analyse(src)
    for title, graph in [("file graph", files), ("module graph", modules)] if verbose else []:
        print(f"{title}:")
        for node, deps in sorted(graph.items()):
            print(f"  {node} -> {', '.join(deps)}")
    for lines in problems.values():
        for line in lines:
            print(line)
    counts = ", ".join(f"{len(lines)} {kind}" for kind, lines in problems.items())
    print(f"import check: {len(files)} files, {len(modules)} modules, {counts}")
    return not any(problems.values())


def self_test():
    """Checks the checks on a clean tree, then on one with known problems."""
    lib = ("mod size; mod error; mod hostcall; mod wasi;\npub use error::{Error, HostcallError};\n"
           "pub use size::{Bytes, GiB};\npub use hostcall::{\n    GuestMemory, Hostcall,\n};\n")
    clean = {
        "lib.rs": lib, "size.rs": "pub struct Bytes; pub struct GiB;",
        "error/mod.rs": "mod hostcall; pub use hostcall::HostcallError;\nuse crate::Bytes;\n"
                        "pub enum Error { Io(crate::size::GiB) }",
        "error/hostcall.rs": "pub struct HostcallError;",
        "wasi/mod.rs": "mod link; // crate::instance::Nothing\nconst S: &str = \"crate::store::X\";",
        "wasi/link.rs": "use super::super::wasi::S;\n#[cfg(test)]\nmod tests { use super::*; }",
        "hostcall/mod.rs": "mod memory; mod set; pub use memory::GuestMemory; pub(crate) use set::*;",
        "hostcall/memory.rs": "use crate::{error::{Error, HostcallError as E}, size::{Bytes, GiB}};",
        "hostcall/set.rs": "pub struct HostcallSet; struct GuestMemory;\nmod tests { use super::GuestMemory; }",
        "instance/mod.rs": "use crate::{GuestMemory, Error};\nfn f(_: crate::wasi::S, _: crate::hostcall::HostcallSet) {}",
        "bin/lucet-wasi/main.rs": "use crate::parse::Args;", "main.rs": "use crate::store::Oops;",
    }
    bad = {**clean, "lib.rs": lib + "mod engine; mod store; mod extra; pub use engine::Engine;",
           "engine/mod.rs": "use crate::store::StoreData;\npub struct Engine;",
           "store.rs": "use crate::{\n    engine::{Config, Engine as E},\n    Error,\n};",
           "wasi/link.rs": "fn f(m: &crate::GuestMemory) {}", "extra.rs": ""}
    for tree, expected in [(clean, [
        "import check: 10 files, 5 modules, 0 file cycles, 0 module cycles, 0 layering violations",
    ]), (bad, [
        "file cycle: engine/mod.rs, store.rs | engine/mod.rs -> store.rs (crate::store::StoreData); "
        "store.rs -> engine/mod.rs (crate::engine::Config)",
        "module cycle: engine, store | engine -> store (engine/mod.rs: crate::store::StoreData); "
        "store -> engine (store.rs: crate::engine::Config)",
        "layering: top-level module extra is not in LAYERS (add it",
        "layering: engine/mod.rs refers to crate::store::StoreData (engine may import: error, size)",
        "layering: store.rs refers to crate::engine::Config (store may import: error, size, wasi,",
        "layering: wasi/link.rs refers to crate::GuestMemory, in hostcall (wasi may import: nothing)",
        "import check: 13 files, 8 modules, 1 file cycles, 1 module cycles, 4 layering violations",
    ])]:
        with tempfile.TemporaryDirectory() as src:
            for rel, text in tree.items():
                os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
                with open(os.path.join(src, rel), "w", encoding="utf-8") as f:
                    f.write(text)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                ok = check(src)
            lines = out.getvalue().splitlines()
            assert ok == (len(expected) == 1) and len(lines) == len(expected), lines
            assert all(line.startswith(e) for line, e in zip(lines, expected)), lines
            # Re-exports (nested, glob, renamed) lead to the file that defines the item.
            files, modules, _ = analyse(src)
            assert files["instance/mod.rs"] == ["error/mod.rs", "hostcall/memory.rs",
                                                "hostcall/set.rs", "wasi/mod.rs"], files
            assert files["hostcall/memory.rs"] == ["error/hostcall.rs", "error/mod.rs", "size.rs"], files
            assert files["hostcall/set.rs"] == [], files  # its own GuestMemory, in `mod tests`
            assert "instance" not in modules["wasi"] and "store" not in modules["wasi"], modules
    print("self-test passed")


if __name__ == "__main__":
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("-v", action="store_true", help="print the file graph and the module graph")
    args.add_argument("--src", default=SRC, help="the source tree to check (lucet-wasi/src)")
    args.add_argument("--self-test", action="store_true", help="check this script, then exit")
    opts = args.parse_args()
    if opts.self_test:
        self_test()
        sys.exit(0)
    sys.exit(0 if check(opts.src, opts.v) else 1)
