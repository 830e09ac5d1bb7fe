"""Write the lab's notebooks (``python notebooks/build_notebooks.py``), without outputs.

The notebooks are generated so that their structure stays uniform: a title,
why it matters, a recipe line with every parameter (seed included), thin code
cells that call into ``labkit``, and "Things to try".  Every cell carries
``metadata.slideshow.slide_type`` for jupyterlab-rise and ``nbconvert --to slides``.
Edit the cells here, rerun, and commit the ``.ipynb`` files.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """%matplotlib inline
import numpy as np
import pandas as pd
pd.set_option("display.width", 140)"""


def md(text: str, slide: str = "-") -> nbformat.NotebookNode:
    cell = new_markdown_cell(text.strip("\n"))
    cell.metadata["slideshow"] = {"slide_type": slide}
    return cell


def code(src: str, slide: str = "-") -> nbformat.NotebookNode:
    cell = new_code_cell(src.strip("\n"))
    cell.metadata["slideshow"] = {"slide_type": slide}
    return cell


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["rise"] = {"scroll": True, "enable_chalkboard": False}
    return nb


# ---------------------------------------------------------------------------------------------
NB01 = [
    md("""
# 01 · A tour: hibernate with kexec jump, resume with `kexec_load`

One machine, three kernels, nothing lost: kernel **A** loads a small kernel **B** with
`KEXEC_PRESERVE_CONTEXT`, jumps to it, B saves A's memory; after power off kernel **C**
loads A's image with `kexec_load` -- in many stages, because the image has far more
than 16 segments -- and jumps back into A.
""", "slide"),
    md("""
**Why it matters.** This is Huang Ying's 2008 proposal for kexec-based hibernation.
The resume load is where the kernel's linear `kimage_dst_used` walk turns quadratic;
the proposal's hash index keeps it linear. Everything below is one call to
`labkit.hibernate.hibernate_resume`.

**Recipe:** `RoundTripParams(ram="64MiB", used=0.6, run_length=32, index="hash", hash="golden",
relocation="swap", rules="2008", stage_segments=16, mode="tags", policy="lowest", seed=0)`
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.hibernate import RoundTripParams, hibernate_resume
params = RoundTripParams(ram="64MiB", used=0.6, run_length=32, index="hash", hash="golden",
                         relocation="swap", rules="2008", stage_segments=16, mode="tags",
                         policy="lowest", seed=0)
result = hibernate_resume(params)
print(params.arg_line())
""", "subslide"),
    md("## Did A come back intact?", "slide"),
    code("""
pd.Series({k: result.to_dict()[k] for k in
           ("verified", "logical_view_ok", "mismatched_pages", "a_used_pages", "b_stage_calls",
            "pgmap_entries", "image_pages", "image_segments", "stage_calls", "entries",
            "indirection_pages")})
""", "fragment"),
    md("## What each step cost", "slide"),
    code("""
costs = pd.DataFrame(result.costs).T
costs["seconds"] = pd.Series(result.seconds)
costs[["allocations", "entries_scanned", "hash_probes", "swap_trick", "parked", "page_copies",
       "pages_relocated", "seconds"]]
""", "fragment"),
    md("""
## Where kernel C put A's image

Top to bottom: the memory map, the image's segments (one per contiguous run of A's memory),
and what every page is for. Orange pages already sit at their destination (the swap trick);
blue ones are moved into place by relocation.
""", "slide"),
    code("""
from labkit.steps import round_trip_backgrounds
from labkit.viz.layout import plot_image_layout
plot_image_layout(result.machine, result.loader_c.image, round_trip_backgrounds(result)["load_image"])
""", "fragment"),
    md("## The destination → source map (`/proc/kexec_pgmap`) before the jump", "slide"),
    code("""
from labkit.pgmap import read_pgmap
from labkit.viz.pgmap import plot_pgmap
plot_pgmap(read_pgmap(result.loader_c.pgmap_text().encode(), name="kernel C's kexec_pgmap"))
""", "fragment"),
    md("""
## Things to try

- `index="linear"`: the same image (same pgmap), but look at `entries_scanned` in the cost table.
- `ram="256MiB"`: four times the pages; how many `kexec_load` calls does C need now?
- `policy="random"` or `"dest-first"`: how many pages land in place?
- `rules="2016"`: the image is more than half of RAM -- see notebook 07.
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB02 = [
    md("""
# 02 · Segment layouts: where segments, source pages and the kimage's own pages go
""", "slide"),
    md("""
**Why it matters.** `kexec_load` cannot write a segment to its destination while the running
kernel still uses that memory, so every destination page gets a *source page* elsewhere,
plus indirection pages for the entry list, a control page and a swap page. Which free page
the allocator hands out decides whether a page is moved later or already sits in place.

**Recipe:** `labkit.examples.worked_example(ram="4MiB")`; `small_load(policy="lowest"|"random", seed=1)`;
the 64 MiB round trip of notebook 01 (`seed=0`, `record=True`); `data/kexec-debug-x86_64.txt`.
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit import pagestate as ps
from labkit.entrylist import entry_frame
from labkit.examples import data_path, small_load, worked_example
from labkit.viz.entries import plot_entries
from labkit.viz.layout import plot_image_layout, plot_layout
""", "skip"),
    md("## The reference's worked example: 3 pages at 1 MiB, 1 page at 2 MiB", "slide"),
    code("""
ex = worked_example(ram="4MiB")
plot_image_layout(ex.machine, ex.loader.image, xlim=(0, 0x210000))
""", "fragment"),
    code("""
plot_entries(entry_frame(ex.loader.image))
""", "subslide"),
    md("""
## When free pages are destinations: the swap trick

The kernel owns pfns 0-7; the segments start right after. With `policy="lowest"` the allocator
hands out pages that are destinations, so the loader either parks them or, when their
destination's entry already exists, swaps them in place (orange).
""", "slide"),
    code("""
lowest = small_load(policy="lowest", seed=1)
plot_image_layout(lowest.machine, lowest.loader.image, ps.background(lowest.machine.ram_bitmap(), lowest.owned),
                  xlim=(0, 0x30000))
""", "fragment"),
    code("""
scattered = small_load(policy="random", seed=1)
plot_image_layout(scattered.machine, scattered.loader.image,
                  ps.background(scattered.machine.ram_bitmap(), scattered.owned), xlim=(0, 0x100000))
""", "subslide"),
    md("""
## Kernel B's load in the round trip

`KS_START` loads B's kernel, initrd and parameter area; `KS_MID` adds the backup segments
(`buf=NULL`); `KS_FINAL` rewrites the parameter area with the backup pages map. The page
states are replayed from the recorded events up to the end of the `load_b` phase.
""", "slide"),
    code("""
from labkit.hibernate import RoundTripParams, hibernate_resume
from labkit.steps import Replay
trip = hibernate_resume(RoundTripParams(ram="64MiB", seed=0, record=True))
replay = Replay.from_round_trip(trip)
end_of_load_b = replay.phase_range(["load_b"])[1]
plot_layout(trip.machine.memmap, trip.loader_a.image.segments, replay.states_at(end_of_load_b),
            xlim=(0, 0x1000000), title="kernel A after loading B (KS_START, KS_MID, KS_FINAL)")
""", "fragment"),
    md("## A real load: kexec-tools' debug table on its own memory map", "slide"),
    code("""
from labkit.formats import read_segments
from labkit.loader import Loader
from labkit.machine import Machine
log = read_segments(data_path("kexec-debug-x86_64.txt"))
machine = Machine.build(log.memory_map)
loader = Loader(machine, seed=0)
loader.kexec_load(log.entry, list(log.segments), log.flags)
plot_image_layout(machine, loader.image, title=f"{data_path('kexec-debug-x86_64.txt').name}: "
                  f"{len(log.segments)} segments, entry {log.entry:#x}")
""", "fragment"),
    md("""
## Things to try

- `small_load(policy="dest-first")`: the allocator's worst case -- every page is a destination.
- `small_load(owned_pages=0)`: nothing owned, where do control and swap pages go?
- Step back in the round trip: `replay.states_at(replay.next_stage(0))` is the state after `KS_START`.
- Load `data/kexec-debug-ppc64.txt` or `data/kexec-debug-arm.txt` the same way.
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB03 = [
    md("""
# 03 · Hash collisions: which hash function for a destination index?
""", "slide"),
    md("""
**Why it matters.** The 2008 proposal replaces `kimage_dst_used`'s walk by a table from
destination pfn to entry. A table is only O(1) if the keys spread: hibernation images are
long contiguous runs, other loads are strided or scattered. `golden` is the kernel's
`hash_64`, `modulo` is `pfn % n`, `weak` hashes the 2 MiB frame (a deliberately bad choice).

**Recipe:** `destination_patterns(pages=16384, seed=0)`; buckets 1024, 4096, 16384; chain
lengths at 4096 buckets; plus the destinations of the 64 MiB round trip (`seed=0`).
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.patterns import chain_frame, destination_patterns, hash_stats
from labkit.viz.hashes import plot_hash_comparison, plot_hash_table
patterns = destination_patterns(pages=16384, seed=0)
stats = hash_stats(patterns, buckets=(1024, 4096, 16384))
stats.pivot_table(index=["pattern", "hash"], columns="buckets", values="mean_probes_hit").round(2)
""", "subslide"),
    code("""
plot_hash_comparison(stats, chain_frame(patterns, nbuckets=4096))
""", "slide"),
    md("""
## One table up close

`weak` on contiguous runs: every 512 consecutive pages share a bucket, so a 16 000-page image
uses a few dozen buckets. `modulo` with a power-of-two bucket count on a 2 MiB stride puts
every key into the same two buckets.
""", "slide"),
    code("""
plot_hash_table(patterns["runs"], 4096, "weak")
""", "fragment"),
    code("""
plot_hash_table(patterns["strided"], 1024, "modulo")
""", "subslide"),
    md("## The destinations of a real resume load", "slide"),
    code("""
from labkit.hibernate import RoundTripParams, hibernate_resume
trip = hibernate_resume(RoundTripParams(ram="64MiB", seed=0))
dest, _src = trip.resume_pgmap
real = {"resume image": dest.astype(np.int64)}
hash_stats(real, buckets=(1024, 4096, 16384))[["hash", "buckets", "keys", "max_chain", "mean_probes_hit"]]
""", "fragment"),
    code("""
pd.Series(trip.index_stats).drop("chain_histogram", errors="ignore")
""", "subslide"),
    md("""
## Explore

Pick a hash function, a bucket count and a pattern. (1000 buckets is not a power of two:
see what that does to `modulo` on the strided pattern.)
""", "slide"),
    code("""
from labkit.viz.widgets import HashExplorer
explorer = HashExplorer(pages=16384, seed=0)
explorer
""", "fragment"),
    md("""
## Things to try

- `explorer.set(hash="modulo", buckets=1000, pattern="strided")`.
- Rerun the round trip with `hash="weak"` and compare `trip.costs["load_image"]["hash_probes"]`.
- `destination_patterns(pages=65536)`: do the curves keep their shape?
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB04 = [
    md("""
# 04 · Stage stepper: the round trip, one event at a time
""", "slide"),
    md("""
**Why it matters.** Multi-stage loading (`KS_START`, `KS_MID`..., `KS_FINAL`) is labkit's
reconstruction of the lost 2008 prototype. Stepping through it shows when pages are parked,
when the swap trick fires, how the entry list grows across stages, and how relocation and
the jump back move every page.

**Recipe:** `RoundTripParams(ram="64MiB", used=0.6, run_length=32, index="hash", hash="golden",
stage_segments=16, policy="lowest", seed=0, record=True)` -- about 54 000 events, all phases.
64 MiB keeps recording quick; the stepper answers in well under 0.2 s per step on 256 MiB too.
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.hibernate import RoundTripParams
from labkit.viz.widgets import StageStepper
params = RoundTripParams(ram="64MiB", used=0.6, run_length=32, index="hash", hash="golden",
                         stage_segments=16, policy="lowest", seed=0, record=True)
stepper = StageStepper.from_params(params)
print(params.arg_line(), f"-> {stepper.replay.n} events in phases {stepper.replay.phases}")
""", "subslide"),
    md("""
## How to read it

One pixel per page, row by row from address 0. Grey: the running kernel's own pages; pale yellow:
destinations still waiting for their page; blue: source pages elsewhere; orange: source pages
already in place; purple: parked on `dest_pages`; green, red, pink: indirection, control, swap.
After the jump, cyan pages hold their image page and brown ones are backup pages.

**next stage** jumps to the next `kexec_load` call or phase; **next page** to the next page placed
or moved; play runs event by event. The same actions are methods: `stepper.next_stage()`,
`stepper.next_page()`, `stepper.step_to(k)`.
""", "slide"),
    code("""
stepper.next_stage()
print(stepper.view.stage_text, "|", stepper.view.event_text)
""", "fragment"),
    md("""
## Things to try

- `stepper.step_to(stepper.replay.phase_range(["load_image"])[0])`: the moment kernel C starts.
- Record `index="linear"` instead: the same events, since both indexes build the same image.
- `StageStepper.from_params(RoundTripParams(ram="256MiB", record=True), phases=["load_image"])`.
""", "slide"),
    code("""
stepper.widget
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB05 = [
    md("""
# 05 · Backup pages and kexec jump
""", "slide"),
    md("""
**Why it matters.** A kexec jump must come back. Relocation therefore *swaps* each source page
with its destination: the new kernel runs in its region, and the old kernel's contents of that
region wait in the source pages -- the **backup pages**. Jumping back runs the same walk and
swaps every pair again. This is why B can save A's memory and why A survives.

**Recipe:** `JumpParams(pages=6, ram="1MiB", b_first_pfn=16, a_pages=96, writes=2, relocation="swap",
policy="lowest", seed=0)`
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.backup import JumpParams, kexec_jump_demo
from labkit.viz.relocation import plot_relocation
params = JumpParams(pages=6, ram="1MiB", b_first_pfn=16, a_pages=96, writes=2, relocation="swap",
                    policy="lowest", seed=0)
demo = kexec_jump_demo(params)
print(params.arg_line(), "| restored:", demo.restored, "| jump back entry:", hex(demo.jump_back_entry))
""", "subslide"),
    code("""
plot_relocation(demo)
""", "slide"),
    md("## The backup pages map: destination → source, exactly the entry list's `IND_SOURCE` words", "slide"),
    code("""
pd.DataFrame(demo.pairs, columns=["dest_pfn", "src_pfn"]).map(hex)
""", "fragment"),
    md("""
## Why not copy?

A plain-copy relocation (what x86_64 uses for ordinary kexec since 6.14) overwrites A's pages in
B's region. The jump back still swaps, but there is nothing of A left to swap back.
""", "slide"),
    code("""
lost = kexec_jump_demo(JumpParams(pages=6, ram="1MiB", relocation="copy", seed=0))
plot_relocation(lost)
""", "fragment"),
    md("## Swap by swap", "slide"),
    code("""
from labkit.viz.widgets import RelocationPlayer
player = RelocationPlayer(demo)
player
""", "fragment"),
    md("""
## Things to try

- `player.to_phase("B runs")`, then step through the jump back.
- `JumpParams(writes=0)`: B changes nothing -- what do the backup pages hold afterwards?
- `JumpParams(policy="highest")`: the backup pages move to the top of RAM.
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB06 = [
    md("""
# 06 · The round trip, phase by phase
""", "slide"),
    md("""
**Why it matters.** Eight steps, two memory worlds (A before power off, C after), one check at
the end: every page A owned holds exactly what it held. The linear walk and the hash index must
build the *identical* image; only their costs may differ.

**Recipe:** `RoundTripParams(ram="64MiB", used=0.6, run_length=32, hash="golden", relocation="swap",
rules="2008", stage_segments=16, policy="lowest", seed=0)` with `index="linear"` and `index="hash"`,
and once with `relocation="copy"`.
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.hibernate import PHASES, RoundTripParams, hibernate_resume
base = dict(ram="64MiB", used=0.6, run_length=32, hash="golden", relocation="swap", rules="2008",
            stage_segments=16, policy="lowest", seed=0)
runs = {index: hibernate_resume(RoundTripParams(index=index, **base)) for index in ("linear", "hash")}
for index, r in runs.items():
    print(f"{index:>6}: verified={r.verified} image_pages={r.image_pages} stage_calls={r.stage_calls}")
""", "subslide"),
    md("## Same image, different work", "slide"),
    code("""
same = all(np.array_equal(a, b) for a, b in zip(runs["linear"].resume_pgmap, runs["hash"].resume_pgmap))
print("identical kexec_pgmap:", same)
pd.DataFrame({index: r.costs["load_image"] for index, r in runs.items()}).loc[
    ["allocations", "entries_scanned", "hash_probes", "dest_pages_scanned", "segment_checks",
     "bitmap_tests", "swap_trick", "parked"]]
""", "fragment"),
    md("## Phase by phase", "slide"),
    code("""
table = pd.DataFrame(runs["hash"].costs).T.reindex(PHASES)
table["seconds"] = pd.Series(runs["hash"].seconds)
table.loc[:, (table != 0).any()]
""", "fragment"),
    md("## The resume image's entry list (one row per indirection page)", "slide"),
    code("""
from labkit.entrylist import entry_frame
from labkit.viz.entries import plot_entries
plot_entries(entry_frame(runs["hash"].loader_c.image))
""", "fragment"),
    md("""
## Copy instead of swap for C's relocation

C does not need to come back, so it may copy. A's own list is still swapped on the jump back
(A's code does that), and A is still restored.
""", "slide"),
    code("""
copied = hibernate_resume(RoundTripParams(index="hash", **{**base, "relocation": "copy"}))
pd.DataFrame({"swap": runs["hash"].costs["relocate"], "copy": copied.costs["relocate"]}).loc[
    ["page_copies", "pages_relocated"]].assign(verified=[runs["hash"].verified, copied.verified])
""", "fragment"),
    md("""
## Things to try

- `seed=1, 2, 3`: does verification ever fail? (It must not.)
- `stage_segments=4`: more, smaller `kexec_load` calls; does the image change?
- `mode="bytes"` on `ram="16MiB"`: real 4 KiB pages instead of tags.
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB07 = [
    md("""
# 07 · Timings and rules: O(n²) against O(n), the 16-segment limit, the half-of-RAM rule
""", "slide"),
    md("""
**Why it matters.** The kernel answers "which entry loads this destination?" by walking the entry
list. For a hibernation image, where most free pages are some image page's destination, that is
O(n) per page and O(n²) per load. In May 2008 Vivek Goyal asked why multiple stages were needed
at all instead of raising the segment limit; and since 2016 the kernel refuses any load bigger
than half of RAM -- which a resume image of a busy machine always is.

**Recipe:** `bench.sweep(["8MiB", "16MiB", "32MiB", "64MiB", "128MiB"], indexes=("linear", "hash"),
used=0.6, run_length=32, seed=0)`; rules `2008` vs `2016` on `ram="64MiB"`, `used=0.6` and `0.4`, `seed=0`.
""", "subslide"),
    code(SETUP, "skip"),
    code("""
from labkit.bench import fit_slopes, sweep
sizes = ["8MiB", "16MiB", "32MiB", "64MiB", "128MiB"]
df = sweep(sizes, indexes=("linear", "hash"), used=0.6, run_length=32, seed=0)
df[["ram", "index", "image_pages", "image_segments", "stage_calls", "entries_scanned", "hash_probes",
    "lookup_work", "seconds", "verified"]]
""", "subslide"),
    code("""
from labkit.viz.costs import plot_costs
plot_costs(df)
""", "slide"),
    code("""
pd.Series(fit_slopes(df, y="lookup_work"), name="fitted exponent of lookup work")
""", "fragment"),
    md("""
## "Why not just raise the 16-segment limit?"

Because an image has one segment per contiguous run of A's memory -- hundreds to hundreds of
thousands -- and the limit is baked into the kernel's data structure:

```c
struct kimage {
        kimage_entry_t head;
        ...
        unsigned long nr_segments;
        struct kexec_segment segment[KEXEC_SEGMENT_MAX];   /* KEXEC_SEGMENT_MAX = 16 */
        ...
};
```

Raising it means a bigger fixed array in every kimage, a bigger copy from user space, and
`kimage_is_destination_range` scanning every segment for every allocated page -- the linear
walk again, now over segments. Stages keep each call at 16 segments and let the total grow.
""", "slide"),
    code("""
from labkit.viz.costs import plot_segment_counts
plot_segment_counts(df)
""", "fragment"),
    code("""
from labkit.errors import KexecError
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.segments import KEXEC_SEGMENT_MAX, Segment
machine = Machine.build("64MiB")
seventeen = [Segment(0x1000000 + i * 0x10000, 0x1000, 0x1000) for i in range(KEXEC_SEGMENT_MAX + 1)]
try:
    Loader(machine).kexec_load(0x1000000, seventeen, 0)
except KexecError as exc:
    print(exc.to_dict())
""", "subslide"),
    md("""
## The half-of-RAM rule (4.8, 2016)

`sanity_check_segment_list` refuses a load whose segments add up to more than half of
`totalram_pages`. labkit checks it across all stages of a loading. A resume image of a machine
that uses 60 % of its RAM cannot be loaded at all under these rules.
""", "slide"),
    code("""
from labkit.hibernate import RoundTripParams, hibernate_resume
for rules, used in (("2008", 0.6), ("2016", 0.6), ("2016", 0.4)):
    r = hibernate_resume(RoundTripParams(ram="64MiB", used=used, rules=rules, seed=0))
    print(f"rules={rules} used={used}: verified={r.verified} image_pages={r.image_pages} "
          f"of {r.ram_pages} -> {r.error}")
""", "fragment"),
    md("""
## Things to try

- `sweep(sizes, indexes=("linear",), policy="random")`: does the exponent change?
- `sweep(sizes, indexes=("hash",), hash="weak")`: a bad hash with a good table.
- `RoundTripParams(rules="2016", used=0.49)`: just under the limit?
""", "slide"),
]

# ---------------------------------------------------------------------------------------------
NB08 = [
    md("""
# 08 · Captured dumps and memory maps
""", "slide"),
    md("""
**Why it matters.** The lab reads what real systems print: `/proc/kexec_pgmap` dumps,
dmesg e820 tables, `/proc/iomem`, and kexec-tools' debug output. Each becomes a `MemoryMap`
and/or a list of `Segment`s that the loader can load and the plots can draw.

**Recipe:** the samples in `data/` (see `data/README.md`); the largest `kexec_pgmap` dump in `data/`
(`pgmap-t42-256MiB.txt.gz`, made with `--seed 42`) if there is one, else one written from the
64 MiB round trip (`seed=0`) into a temporary directory.
""", "subslide"),
    code(SETUP, "skip"),
    code("""
import tempfile
from pathlib import Path
from labkit.examples import data_path
from labkit.formats import read_memmap, read_segments
from labkit.pgmap import read_pgmap, summarise_pgmap, write_pgmap
from labkit.viz.layout import plot_image_layout, plot_layout
from labkit.viz.pgmap import plot_pgmap
""", "skip"),
    md("## A `kexec_pgmap` dump", "slide"),
    code("""
shipped = [p for p in sorted(data_path().glob("pgmap-*"))
           if "damaged" not in p.name and "inconsistent" not in p.name]
if shipped:
    dump_path = max(shipped, key=lambda p: p.stat().st_size)
else:
    from labkit.hibernate import RoundTripParams, hibernate_resume
    trip = hibernate_resume(RoundTripParams(ram="64MiB", seed=0))
    dest, src = trip.resume_pgmap
    dump_path = Path(tempfile.mkdtemp()) / "kexec_pgmap.gz"
    write_pgmap(dump_path, dest, src, "loaded")
pgmap = read_pgmap(dump_path)
print(dump_path.name, pgmap.state, len(pgmap.dest_pfn), "entries")
pd.Series(summarise_pgmap(pgmap).flat())
""", "fragment"),
    code("""
plot_pgmap(pgmap)
""", "subslide"),
    md("""
## Damaged and inconsistent dumps

The reader is strict: a damaged line is a `ParseError` naming the line. A map read leniently can
still break the kimage's invariants; `validate_pgmap` says which.
""", "slide"),
    code("""
from labkit.errors import ParseError
from labkit.pgmap import validate_pgmap
damaged = data_path() / "pgmap-damaged.txt"
if damaged.exists():
    try:
        read_pgmap(damaged)
    except ParseError as exc:
        print(exc)
inconsistent = data_path() / "pgmap-inconsistent.txt"
if inconsistent.exists():
    findings = validate_pgmap(read_pgmap(inconsistent, lenient=True))
    display(pd.DataFrame([f.to_dict() for f in findings])[["kind", "severity", "count", "message"]])
""", "fragment"),
    md("## e820 tables from dmesg: an old laptop and a modern server", "slide"),
    code("""
t42 = read_memmap(data_path("dmesg-e820-old-t42.txt"))
print(t42.map.describe())
plot_layout(t42.map, title=f"{Path(t42.source).name} ({t42.format})")
""", "fragment"),
    code("""
server = read_memmap(data_path("dmesg-e820-new-server.txt"))
print(len(server.modifications), "modifications logged after the firmware table")
plot_layout(server.applied(), title=f"{Path(server.source).name} with its modifications applied")
""", "subslide"),
    md("## `/proc/iomem`: kernel regions and the crash kernel inside System RAM", "slide"),
    code("""
iomem = read_memmap(data_path("proc-iomem.txt"))
plot_layout(iomem.map, title=f"{Path(iomem.source).name}: {iomem.map.ram_bytes >> 20} MiB RAM")
""", "fragment"),
    md("## kexec-tools debug output, loaded on its own memory map", "slide"),
    code("""
from labkit.loader import Loader
from labkit.machine import Machine
log = read_segments(data_path("kexec-debug-x86_64.txt"))
pd.DataFrame([s.to_dict() for s in log.segments]).map(hex)
""", "fragment"),
    code("""
machine = Machine.build(log.memory_map)
loader = Loader(machine, seed=0)
print(loader.kexec_load(log.entry, list(log.segments), log.flags).to_dict())
plot_image_layout(machine, loader.image, title=f"{Path(log.source).name}: flags {', '.join(log.flag_names())}")
""", "subslide"),
    md("""
## A failed load

`data/kexec-debug-failed.txt` is a `--load-preserve-context` load that failed with `EINVAL`.
labkit loads it fine on a kernel with `CONFIG_KEXEC_JUMP`; without it, the flag is unknown and the
kernel says `EINVAL` -- one explanation that fits the log.
""", "slide"),
    code("""
from labkit.errors import KexecError
from labkit.segments import KernelConfig
failed = read_segments(data_path("kexec-debug-failed.txt"))
print("logged:", failed.failed, failed.error, failed.flag_names())
for jump in (True, False):
    m = Machine.build(failed.memory_map, config=KernelConfig(kexec_jump=jump))
    try:
        Loader(m, seed=0).kexec_load(failed.entry, list(failed.segments), failed.flags)
        print(f"CONFIG_KEXEC_JUMP={jump}: loaded")
    except KexecError as exc:
        print(f"CONFIG_KEXEC_JUMP={jump}:", exc.errno, exc.rule)
""", "fragment"),
    md("""
## Things to try

- `read_memmap(data_path("proc-iomem-nonroot.txt"))`: what does labkit say, and why?
- `read_segments(data_path("kexec-file-load-arm64-dmesg.txt"))`: a `kexec_file_load` log.
- Drop your own `/proc/kexec_pgmap` capture (plain or `.gz`) into `data/` and rerun.
""", "slide"),
]

NOTEBOOKS = {
    "01_tour.ipynb": NB01,
    "02_segment_layouts.ipynb": NB02,
    "03_hash_collisions.ipynb": NB03,
    "04_stage_stepper.ipynb": NB04,
    "05_backup_pages_and_kexec_jump.ipynb": NB05,
    "06_round_trip.ipynb": NB06,
    "07_timings_and_rules.ipynb": NB07,
    "08_captured_dumps_and_memory_maps.ipynb": NB08,
}


def main(outdir: Path = HERE) -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = notebook(cells)
        nbformat.validate(nb)
        path = outdir / name
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(p)
