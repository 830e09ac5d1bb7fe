#!/usr/bin/env python3
"""labkit's benchmark suite (``make bench``): every performance target, measured side by side.

Sections, each printing figures and ratios measured in this one run:

1. the round trip (tags mode, hash index, swap relocation, A using 60% in runs of
   mean 32) from 2^14 to 2^22 RAM pages; each size runs ``--repeat`` times in a
   fresh process (so peak memory is that run's own) and the median is kept; beside
   it, in the same process, the bare numpy data movement of the same round trip
   (gathering A's page tags into an image and scattering them back);
2. the kernel's linear walk from 2^14 to 2^16 pages: wall time and counted cost,
   extrapolated beyond from the fitted counter slope;
3. the pgmap reader on a 16M-line dump against pyarrow (bench/bench_pgmap.py);
4. every notebook's run time and the stage stepper's time per step.

Writes bench/results/roundtrip.csv and bench/results/scaling.png, and ends with a
table of targets: measured figure, target, met or not.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"


def one_round_trip(ram: str, index: str, seed: int) -> dict:
    """Run in a child process: one round trip plus the bare numpy baseline; prints JSON."""
    import resource

    import numpy as np

    from labkit.hibernate import RoundTripParams, hibernate_resume

    t0 = time.perf_counter()
    r = hibernate_resume(RoundTripParams(ram=ram, index=index, seed=seed))
    wall = time.perf_counter() - t0
    # the irreducible data movement: gather A's pages into an image, scatter them back
    tags = r.machine.mem.tags
    image_pfns = np.sort(r.resume_pgmap[0].astype(np.int64))     # every page of A's image
    times = []
    for _ in range(3):
        t1 = time.perf_counter()
        image = tags[image_pfns]          # B saves A's pages
        tags[image_pfns] = image          # C puts them back
        times.append(time.perf_counter() - t1)
    return {"ram": ram, "index": index, "ram_pages": r.ram_pages, "image_pages": r.image_pages,
            "image_segments": r.image_segments, "stage_calls": r.stage_calls, "verified": r.verified,
            "error": r.error, "seconds": wall, "phases": r.seconds, "costs": r.costs["load_image"] if r.costs else {},
            "bare_numpy_seconds": statistics.median(times),
            "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "args": r.params.arg_line()}


def run_child(ram: str, index: str, seed: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", ram, "--index", index, "--seed", str(seed)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def fmt_size(pages: int) -> str:
    from labkit.units import format_size
    return format_size(pages * 4096)


def section_round_trip(exponents: list[int], repeat: int, seed: int) -> list[dict]:
    print("\n== 1. round trip, hash index, tags mode (median of %d runs, each in its own process)" % repeat)
    print(f"{'RAM':>7} {'pages':>9} {'image':>9} {'segs':>7} {'calls':>6} {'median s':>9} {'min s':>7} "
          f"{'load s':>7} {'reloc s':>7} {'peak MiB':>9} {'numpy s':>8} {'ratio':>7}  verified")
    rows = []
    for e in exponents:
        ram = fmt_size(2 ** e)
        runs = [run_child(ram, "hash", seed) for _ in range(repeat)]
        med = statistics.median(r["seconds"] for r in runs)
        best = min(runs, key=lambda r: abs(r["seconds"] - med))
        numpy_s = statistics.median(r["bare_numpy_seconds"] for r in runs)
        row = dict(best, seconds=med, seconds_min=min(r["seconds"] for r in runs),
                   maxrss_bytes=max(r["maxrss_bytes"] for r in runs), bare_numpy_seconds=numpy_s,
                   ratio_to_numpy=med / numpy_s if numpy_s else math.inf, exponent=e)
        rows.append(row)
        print(f"{ram:>7} {row['ram_pages']:>9} {row['image_pages']:>9} {row['image_segments']:>7} "
              f"{row['stage_calls']:>6} {med:>9.2f} {row['seconds_min']:>7.2f} {row['phases']['load_image']:>7.2f} "
              f"{row['phases']['relocate']:>7.2f} {row['maxrss_bytes'] / 2**20:>9.0f} {numpy_s:>8.4f} "
              f"{row['ratio_to_numpy']:>7.0f}  {row['verified']}")
    return rows


def section_linear(exponents: list[int], seed: int) -> list[dict]:
    print("\n== 2. the kernel's linear walk against the hash index, same machines (one run each)")
    print(f"{'RAM':>7} {'image':>9} {'linear s':>9} {'hash s':>8} {'entries scanned':>16} {'hash probes':>12} "
          f"{'scan/probe':>10}")
    rows = []
    for e in exponents:
        ram = fmt_size(2 ** e)
        lin = run_child(ram, "linear", seed)
        hsh = run_child(ram, "hash", seed)
        scanned, probes = lin["costs"]["entries_scanned"], hsh["costs"]["hash_probes"]
        rows.append({"exponent": e, "ram": ram, "image_pages": lin["image_pages"], "linear_seconds": lin["seconds"],
                     "hash_seconds": hsh["seconds"], "entries_scanned": scanned, "hash_probes": probes})
        print(f"{ram:>7} {lin['image_pages']:>9} {lin['seconds']:>9.2f} {hsh['seconds']:>8.2f} {scanned:>16,} "
              f"{probes:>12,} {scanned / max(probes, 1):>10.0f}")
    return rows


def section_pgmap(lines: int) -> dict:
    print(f"\n== 3. pgmap reader, {lines:,} lines (bench/bench_pgmap.py)")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_pgmap.py"), "--lines", str(lines)],
                         capture_output=True, text=True)
    print(out.stdout.rstrip())
    if out.returncode not in (0, 1):
        print(out.stderr)
        raise SystemExit("bench_pgmap failed")
    rate = float(re.search(r"read_pgmap \(strict\)\s+[\d.]+ s\s+([\d.]+) M lines/s", out.stdout).group(1))
    ratio = float(re.search(r"labkit / \(pyarrow \+ conversion\) = ([\d.]+)", out.stdout).group(1))
    return {"lines_per_second": rate * 1e6, "ratio_to_pyarrow": ratio}


def section_notebooks() -> dict:
    print("\n== 4. notebooks (executed top to bottom) and the stage stepper")
    import nbformat
    from nbclient import NotebookClient
    times = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        times[path.name] = time.perf_counter() - t0
        print(f"{path.name:<45} {times[path.name]:6.1f} s")
    import numpy as np

    from labkit.hibernate import RoundTripParams
    from labkit.viz.widgets import StageStepper
    t0 = time.perf_counter()
    stepper = StageStepper.from_params(RoundTripParams(ram="256MiB", seed=0, record=True))
    build = time.perf_counter() - t0
    stepper.timings.clear()
    for k in np.random.default_rng(0).integers(0, stepper.replay.n, 30).tolist():
        stepper.step_to(k)
    for _ in range(10):
        stepper.next_stage_button.click()
        stepper.next_page_button.click()
    t = np.array(stepper.timings)
    step = {"ms_per_step": float(np.median(t) * 1e3), "p95_ms": float(np.percentile(t, 95) * 1e3),
            "steps": len(t), "pages": stepper.replay.max_pfn, "build_s": build}
    print(f"stage stepper, {step['pages']} pages ({stepper.replay.n} events, built in {build:.1f} s): "
          f"median {step['ms_per_step']:.0f} ms per step, 95th percentile {step['p95_ms']:.0f} ms "
          f"over {step['steps']} steps")
    return {"notebooks": times, "stepper": step}


def plot(rows: list[dict], linear: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from labkit.bench import loglog_slope
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    x = [r["image_pages"] for r in rows]
    a.loglog(x, [r["seconds"] for r in rows], "o-", label=f"hash round trip (slope {loglog_slope(x, [r['seconds'] for r in rows]):.2f})")
    a.loglog(x, [r["bare_numpy_seconds"] for r in rows], "s--", label="bare numpy gather + scatter")
    if linear:
        xl = [r["image_pages"] for r in linear]
        a.loglog(xl, [r["linear_seconds"] for r in linear], "^-", label="linear walk round trip")
    a.set_xlabel("image pages")
    a.set_ylabel("seconds (median)")
    a.set_title("Wall time")
    a.legend(fontsize=8)
    if linear:
        xl = [r["image_pages"] for r in linear]
        sl, sh = loglog_slope(xl, [r["entries_scanned"] for r in linear]), loglog_slope(xl, [r["hash_probes"] for r in linear])
        b.loglog(xl, [r["entries_scanned"] for r in linear], "^-", label=f"entries scanned, linear (slope {sl:.2f})")
        b.loglog(xl, [r["hash_probes"] for r in linear], "o-", label=f"hash probes (slope {sh:.2f})")
    b.set_xlabel("image pages")
    b.set_ylabel("lookup work (counted)")
    b.set_title("Counted cost of the resume load")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", metavar="RAM", help=argparse.SUPPRESS)
    parser.add_argument("--index", default="hash", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-exponent", type=int, default=22, help="largest machine: 2^N pages (22 = 16 GiB)")
    parser.add_argument("--linear-max-exponent", type=int, default=16, help="largest linear-walk machine")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    parser.add_argument("--pgmap-lines", type=int, default=16_000_000)
    parser.add_argument("--skip-pgmap", action="store_true")
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_round_trip(args.one, args.index, args.seed)))
        return 0

    from labkit.bench import loglog_slope
    print(f"ARG bench/run.py --max-exponent {args.max_exponent} --linear-max-exponent {args.linear_max_exponent} "
          f"--repeat {args.repeat} --pgmap-lines {args.pgmap_lines} --seed {args.seed}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = section_round_trip(list(range(14, args.max_exponent + 1)), args.repeat, args.seed)
    linear = section_linear(list(range(14, args.linear_max_exponent + 1)), args.seed)
    import pandas as pd
    pd.DataFrame([{k: v for k, v in r.items() if k not in ("phases", "costs", "error")} for r in rows]).to_csv(
        RESULTS / "roundtrip.csv", index=False)
    pd.DataFrame(linear).to_csv(RESULTS / "linear.csv", index=False)
    plot(rows, linear, RESULTS / "scaling.png")
    pg = None if args.skip_pgmap else section_pgmap(args.pgmap_lines)
    nbs = None if args.skip_notebooks else section_notebooks()

    targets = []
    big = rows[-1]
    if big["exponent"] == 22:
        targets.append(("16 GiB round trip wall time (median)", f"{big['seconds']:.1f} s", "<= 15 s", big["seconds"] <= 15))
        targets.append(("16 GiB round trip peak memory", f"{big['maxrss_bytes'] / 2**30:.2f} GiB", "<= 1.5 GiB",
                        big["maxrss_bytes"] <= 1.5 * 2**30))
        targets.append(("16 GiB round trip verified", str(big["verified"]), "True", bool(big["verified"])))
        targets.append(("ratio to bare numpy data movement", f"{big['ratio_to_numpy']:.0f}x", "(reported)", True))
    scaled = [r for r in rows if 18 <= r["exponent"] <= 22]
    if len(scaled) >= 2:
        slope = loglog_slope([r["image_pages"] for r in scaled], [r["seconds"] for r in scaled])
        targets.append(("hash wall-time log-log slope, 2^18..2^22", f"{slope:.2f}", "<= 1.15", slope <= 1.15))
    if len(linear) >= 2:
        xl = [r["image_pages"] for r in linear]
        sl = loglog_slope(xl, [r["entries_scanned"] for r in linear])
        targets.append(("linear walk counted-cost slope", f"{sl:.2f}", "near 2", 1.8 <= sl <= 2.2))
        a = linear[-1]["entries_scanned"] / linear[-1]["image_pages"] ** sl
        extra = {e: a * (2 ** e * 0.6) ** sl for e in (18, 20, 22)}
        print("\nlinear walk extrapolated from counters: " +
              ", ".join(f"{fmt_size(2 ** e)}: {v:.2e} entries scanned" for e, v in extra.items()))
    if pg is not None:
        targets.append(("pgmap reader, 16M lines", f"{pg['lines_per_second'] / 1e6:.2f} M lines/s", ">= 2 M lines/s",
                        pg["lines_per_second"] >= 2e6))
        targets.append(("pgmap reader vs pyarrow + conversion", f"{pg['ratio_to_pyarrow']:.2f}x", "<= 2x",
                        pg["ratio_to_pyarrow"] <= 2))
    if nbs is not None:
        slowest = max(nbs["notebooks"].items(), key=lambda kv: kv[1], default=("-", 0.0))
        targets.append(("slowest notebook", f"{slowest[0]} {slowest[1]:.1f} s", "< 30 s", slowest[1] < 30))
        if nbs["stepper"] is not None:
            ms = nbs["stepper"]["ms_per_step"]
            targets.append(("stage stepper per step, 64K pages (median)", f"{ms:.0f} ms", "< 200 ms", ms < 200))
            p95 = nbs["stepper"]["p95_ms"]
            targets.append(("stage stepper per step, 95th percentile", f"{p95:.0f} ms", "< 200 ms", p95 < 200))
    print("\n== targets")
    width = max(len(t[0]) for t in targets) if targets else 10
    for name, got, want, ok in targets:
        print(f"{name:<{width}}  {got:>22}  {want:>14}  {'met' if ok else 'NOT MET'}")
    print(f"\nwrote {RESULTS / 'roundtrip.csv'}, {RESULTS / 'linear.csv'}, {RESULTS / 'scaling.png'}")
    return 0 if all(t[3] for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
