"""scripts/bench.sh's report: BENCHMARKS.md from one run's hyperfine JSON and RSS samples.

    python3 report.py RESULTS_DIR REPO_ROOT BENCHMARKS.md

Everything above the marker line is written anew; what follows the marker (the findings,
written by hand) is kept as it is.
"""

import json
import os
import statistics
import sys

MARKER = "<!-- Everything below this line is written by hand; scripts/bench.sh keeps it. -->"

GROUPS = [
    ("python", "Interpreter: CPython 3.12.0 for WASI (26 MB module)"),
    ("yosys", "C++ program: Yosys 0.70 (68 MB module, wasm exceptions)"),
    ("micro", "Micro guests (scripts/bench/micro, one Rust source for wasm32-wasip1 and native)"),
]

# Targets of issue 8, by row: (what, limit) with what one of
# "wasmtime" (lucet-wasi ÷ Wasmtime), "native" (lucet-wasi ÷ native), "rss" (peak RSS
# of lucet-wasi ÷ Wasmtime's).
TARGETS = {
    "py-start": [("wasmtime", 1.0)],
    "py-cpu": [("wasmtime", 1.0)],
    "py-cache": [("wasmtime", 1.0)],
    "ys-start": [("wasmtime", 1.0)],
    "ys-cpu": [("wasmtime", 1.0)],
    "ys-cache": [("wasmtime", 1.0)],
    "hello": [("rss", 1.0)],
    "write": [("native", 1.5)],
    "stat": [("native", 2.0)],
    "read": [("native", 1.2)],
    "compute": [("wasmtime", 1.03), ("native", 1.03)],
}
TARGET_NAMES = {"wasmtime": "Wasmtime", "native": "native", "rss": "Wasmtime's peak RSS"}


def seconds(t):
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 0.01:
        return f"{t * 1000:.0f} ms"
    return f"{t * 1000:.1f} ms"


def commands(results, row_id):
    """The (label, command) pairs of a row, in the order given to hyperfine."""
    with open(os.path.join(results, f"{row_id}.cmds")) as f:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in f]


def load(results, row_id):
    """label -> median time, run count, median peak RSS (MB) of one row."""
    with open(os.path.join(results, f"{row_id}.json")) as f:
        data = json.load(f)["results"]
    out = {}
    for i, ((label, _), r) in enumerate(zip(commands(results, row_id), data)):
        with open(os.path.join(results, f"{row_id}.{i}.rss")) as f:
            rss_kb = statistics.median(int(x) for x in f.read().split())
        out[label] = {"median": r["median"], "runs": len(r["times"]), "rss": rss_kb / 1024}
    return out


def main():
    results, root, target = sys.argv[1:4]
    meta = {}
    with open(os.path.join(results, "meta.txt")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    rows = []
    with open(os.path.join(results, "rows.txt")) as f:
        for line in f:
            row_id, group, title = line.rstrip("\n").split("|", 2)
            rows.append((row_id, group, title))

    out = []
    w = out.append
    w("# Benchmarks")
    w("")
    w("Whole-process runs, as a user would run them: lucet-wasi (release build of this")
    w("repository) against the Wasmtime 48 CLI and, for the micro guests, the same Rust program")
    w("built natively. Made by `scripts/bench.sh` (which installs its tools and downloads its")
    w("inputs, pinned by version and sha256); every number in a row comes from one hyperfine")
    w("run, so the ratios compare runs made minutes apart on the same machine.")
    w("")
    w(f"- **Date:** {meta['date']}; lucet-wasi at commit `{meta['commit']}`")
    w(f"- **Machine:** {meta['cpu']}, {meta['cpus']} CPUs, {meta['mem']} RAM; {meta['kernel']}")
    w(f"  (a shared VM: load average {meta['load_before']} before, {meta['load_after']} after)")
    w(f"- **Toolchain:** {meta['rustc']}; {meta['hyperfine']}")
    w(f"- **Wasmtime:** {meta['wasmtime']}")
    if meta.get("runs_scale", "1") != "1":
        w(f"- **RUNS_SCALE={meta['runs_scale']}**: fewer runs than the script's default")
    w("")
    w("Times are hyperfine medians (`-N`, no shell; one warm-up run; the run count is in the")
    w("commands below); each is followed by the median peak RSS of three more runs")
    w("(`/usr/bin/time -f %M`). Ratios are lucet-wasi ÷ the other, from the same run: below 1")
    w("means lucet-wasi is faster. Both runtimes use their defaults apart from what the")
    w("guest needs (the same preopened directories, and `--allow-precompiled` for Wasmtime):")
    w("precompiled rows run `lucet-wasi compile` / `wasmtime compile` output; `.wasm` rows run")
    w("after one unmeasured run filled each runtime's own compile cache (both on by default).")
    w("")

    verdicts = []
    for group, heading in GROUPS:
        group_rows = [r for r in rows if r[1] == group]
        if not group_rows:
            continue
        native = group == "micro"
        w(f"## {heading}")
        w("")
        head = "| workload | lucet-wasi | Wasmtime 48 CLI |"
        sep = "| --- | ---: | ---: |"
        if native:
            head += " native |"
            sep += " ---: |"
        head += " ÷ Wasmtime |"
        sep += " ---: |"
        if native:
            head += " ÷ native |"
            sep += " ---: |"
        head += " target |"
        sep += " --- |"
        w(head)
        w(sep)
        for row_id, _, title in group_rows:
            r = load(results, row_id)
            lw, wt, nat = r["lucet-wasi"], r["wasmtime"], r.get("native")
            cells = [title]
            for x in (lw, wt) + ((nat,) if native else ()):
                cells.append(f"{seconds(x['median'])} · {x['rss']:.0f} MB" if x else "–")
            ratio = {
                "wasmtime": lw["median"] / wt["median"],
                "native": lw["median"] / nat["median"] if nat else None,
                "rss": lw["rss"] / wt["rss"],
            }
            cells.append(f"**{ratio['wasmtime']:.2f}×**")
            if native:
                cells.append(f"**{ratio['native']:.2f}×**" if nat else "–")
            marks = []
            for what, limit in TARGETS.get(row_id, []):
                got = ratio[what]
                if got <= limit:
                    marks.append(f"≤ {limit:g}× {TARGET_NAMES[what]}: met ({got:.2f}×)")
                else:
                    miss = f"≤ {limit:g}× {TARGET_NAMES[what]}: **missed by {(got / limit - 1) * 100:.1f}%** ({got:.2f}×)"
                    marks.append(miss)
                    verdicts.append(f"- {title}: {miss}")
            cells.append("; ".join(marks) or "–")
            w("| " + " | ".join(cells) + " |")
        w("")

    w("## Targets missed in this run")
    w("")
    if verdicts:
        out.extend(verdicts)
    else:
        w("None.")
    w("")
    w("## Commands")
    w("")
    w("Each row is one `hyperfine -N --warmup 1 --runs N -n LABEL 'COMMAND' ...` of these")
    w("commands, where `$ROOT` is the repository's root:")
    w("")
    w("```sh")
    for row_id, _, title in rows:
        runs = next(iter(load(results, row_id).values()))["runs"]
        w(f"# {row_id}: {title} ({runs} runs)")
        for label, cmd in commands(results, row_id):
            w(f"{label}: {cmd.replace(root, '$ROOT')}")
    w("```")
    w("")

    kept = ""
    if os.path.exists(target):
        with open(target) as f:
            text = f.read()
        if MARKER in text:
            kept = text.split(MARKER, 1)[1]
    if not kept.strip():
        kept = "\n\n## Findings\n\n(Not written yet.)\n"
    with open(target, "w") as f:
        f.write("\n".join(out) + "\n" + MARKER + kept)


if __name__ == "__main__":
    main()
