"""``labkit simulate``: the round trip from the command line."""
import json

from labkit.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_simulate_json(capsys):
    code, out, _ = run(capsys, "simulate", "--ram", "32MiB", "--json", "--no-progress")
    assert code == 0
    doc = json.loads(out)
    for key in ("verified", "mismatched_pages", "image_pages", "image_segments", "stage_calls", "costs", "seconds"):
        assert key in doc
    assert doc["verified"] and doc["params"]["ram"] == "32MiB"
    assert doc["costs"]["load_image"]["hash_probes"] > 0


def test_simulate_human_summary_echoes_args(capsys):
    code, out, _ = run(capsys, "simulate", "--ram", "16MiB", "--index", "linear", "--seed", "5", "--no-progress")
    assert code == 0
    assert out.startswith("ARG labkit simulate --ram 16MiB") and "--seed 5" in out and "verified" in out


def test_simulate_rejected_by_rules_exits_3(capsys):
    code, out, err = run(capsys, "simulate", "--ram", "32MiB", "--rules", "2016", "--json", "--no-progress")
    assert code == 3
    assert json.loads(out)["error"]["rule"] == "total-exceeds-half-ram" and "EINVAL" in err


def test_simulate_writes_the_resume_pgmap(tmp_path, capsys):
    out_file = tmp_path / "pgmap.txt"
    code, out, _ = run(capsys, "simulate", "--ram", "16MiB", "--pgmap-out", str(out_file), "--json", "--no-progress")
    assert code == 0
    from labkit.pgmap import read_pgmap
    pg = read_pgmap(out_file)
    assert len(pg.df) == json.loads(out)["image_pages"] and pg.state == "loaded"


def test_bad_arguments_are_usage_errors(capsys):
    import pytest
    with pytest.raises(SystemExit) as info:
        main(["simulate", "--used", "1.5"])
    assert info.value.code == 2


def test_simulate_on_a_real_memory_map(capsys):
    from pathlib import Path
    t42 = Path(__file__).resolve().parents[1] / "data" / "dmesg-e820-old-t42.txt"
    code, out, _ = run(capsys, "simulate", "--memmap", str(t42), "--ram", "1MiB", "--json", "--no-progress")
    doc = json.loads(out)
    assert code == 0 and doc["verified"] and doc["ram_pages"] == 261887
    assert doc["args"].startswith(f"labkit simulate --memmap {t42}")


def test_simulate_with_i386_entries(capsys):
    code, out, _ = run(capsys, "simulate", "--ram", "32MiB", "--entry-size", "4", "--json", "--no-progress")
    doc = json.loads(out)
    assert code == 0 and doc["verified"] and "--entry-size 4" in doc["args"]
    code8, out8, _ = run(capsys, "simulate", "--ram", "32MiB", "--json", "--no-progress")
    # 1023 entries per page instead of 511: about half the indirection pages
    assert json.loads(out8)["indirection_pages"] >= 2 * doc["indirection_pages"] - 1
