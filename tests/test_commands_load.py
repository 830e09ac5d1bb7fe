"""``labkit load``: a logged segment table through the simulated kexec_load."""
import json
from pathlib import Path

from labkit.cli import main

DATA = Path(__file__).resolve().parents[1] / "data"


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_load_a_logged_table_json(capsys):
    code, out, _ = run(capsys, "load", str(DATA / "kexec-debug-x86_64.txt"), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] and doc["entries"] > 0 and doc["indirection_pages"] >= 1
    assert len(doc["segments"]) == 4 and doc["params"]["seed"] == 0 and doc["params"]["rules"] == "2008"
    assert set(doc["costs"]) >= {"allocations", "swap_trick", "parked", "entries_scanned", "hash_probes"}


def test_load_text_output_echoes_parameters(capsys):
    code, out, _ = run(capsys, "load", str(DATA / "kexec-debug-x86_64.txt"), "--index", "linear", "--seed", "4")
    assert code == 0 and "seed" in out and "linear" in out and "entries" in out


def test_rejection_is_exit_3_with_errno_and_rule(tmp_path, capsys):
    log = tmp_path / "overlap.txt"
    log.write_text(
        "kexec_load: entry = 0x100000 flags = 0x3e0000\n"
        "nr_segments = 2\n"
        "segment[0].buf   = 0x7f0000000000\nsegment[0].bufsz = 0x2000\n"
        "segment[0].mem   = 0x100000\nsegment[0].memsz = 0x3000\n"
        "segment[1].buf   = 0x7f0000100000\nsegment[1].bufsz = 0x1000\n"
        "segment[1].mem   = 0x102000\nsegment[1].memsz = 0x1000\n")
    code, out, _ = run(capsys, "load", str(log), "--ram", "64MiB", "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc == {**doc, "ok": False, "errno": "EINVAL", "rule": "segment-overlap"}
    assert "detail" in doc


def test_rules_2016_half_of_ram(tmp_path, capsys):
    log = tmp_path / "big.txt"
    log.write_text("kexec_load: entry = 0x100000 flags = 0x0\nnr_segments = 1\n"
                   "segment[0].buf = 0x0\nsegment[0].bufsz = 0x0\n"
                   "segment[0].mem = 0x0\nsegment[0].memsz = 0x2400000\n")
    assert run(capsys, "load", str(log), "--ram", "64MiB", "--rules", "2016")[0] == 3
    assert run(capsys, "load", str(log), "--ram", "64MiB", "--rules", "2008")[0] == 0


def test_unparseable_file_is_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("segment[0].mem = 0xZZ\n")
    code, _, err = run(capsys, "load", str(bad), "--ram", "64MiB")
    assert code == 2 and "bad.txt" in err


def test_log_without_ranges_needs_a_machine(tmp_path, capsys):
    log = tmp_path / "noranges.txt"
    log.write_text("kexec_load: entry = 0x100000 flags = 0x0\nnr_segments = 1\n"
                   "segment[0].buf = 0x0\nsegment[0].bufsz = 0x0\nsegment[0].mem = 0x100000\nsegment[0].memsz = 0x1000\n")
    code, _, err = run(capsys, "load", str(log))
    assert code == 2 and "--memmap" in err
    assert run(capsys, "load", str(log), "--memmap", str(DATA / "dmesg-e820-old-t42.txt"))[0] == 0


def test_upstream_kernel_rejects_stage_bits(tmp_path, capsys):
    log = tmp_path / "staged.txt"
    log.write_text("kexec_load: entry = 0x100000 flags = 0x100\nnr_segments = 1\n"
                   "segment[0].buf = 0x0\nsegment[0].bufsz = 0x0\nsegment[0].mem = 0x100000\nsegment[0].memsz = 0x1000\n")
    code, out, _ = run(capsys, "load", str(log), "--ram", "64MiB", "--json")
    assert code == 0 and json.loads(out)["params"]["multistage"]
    code, out, _ = run(capsys, "load", str(log), "--ram", "64MiB", "--no-multistage", "--json")
    assert code == 3 and json.loads(out)["rule"] == "unknown-flags"


def test_i386_entries(capsys):
    log = str(DATA / "kexec-debug-x86_64.txt")
    code, out, _ = run(capsys, "load", log, "--ram", "2GiB", "--entry-size", "4", "--json")
    doc = json.loads(out)
    wide = json.loads(run(capsys, "load", log, "--ram", "2GiB", "--json")[1])
    assert code == 0 and doc["params"]["entry_size"] == 4
    assert doc["indirection_pages"] == -(-doc["entries"] // 1023) and wide["indirection_pages"] == -(-wide["entries"] // 511)
    # 32-bit entries cannot address more than 4 GiB
    assert run(capsys, "load", log, "--ram", "8GiB", "--entry-size", "4")[0] == 2
