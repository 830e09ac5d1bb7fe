"""Every check of sys_kexec_load, its errno, and which one wins when several fail."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from labkit.errors import KexecError
from labkit.loader import Loader
from labkit.machine import Machine
from labkit.relocate import RelocationError, kernel_kexec
from labkit.segments import (KEXEC_ARCH_MASK, KEXEC_ON_CRASH, KEXEC_PRESERVE_CONTEXT, KernelConfig, RULES,
                             Segment, arch_flag, check_flags, sanity_check_segment_list)

MiB = 1 << 20


def load(loader, segs, flags=0, entry=0x100000):
    return loader.kexec_load(entry, segs, flags)


def rejected(loader, segs, flags=0, entry=0x100000):
    with pytest.raises(KexecError) as info:
        loader.kexec_load(entry, segs, flags)
    return info.value


@pytest.fixture(params=["2008", "2016"])
def loader(request):
    return Loader(Machine.build("64MiB", crash=(32 * MiB, 48 * MiB)), rules=request.param)


GOOD = Segment(0x100000, 0x2000, 0x1000)


def test_eperm_without_cap_sys_boot_comes_first(loader):
    loader.capable = False
    exc = rejected(loader, [Segment(0x100001, 1, 2)] * 20, flags=0x80)
    assert (exc.errno, exc.rule) == ("EPERM", "no-cap-sys-boot")


def test_unknown_flags(loader):
    exc = rejected(loader, [GOOD], flags=0x10)
    assert (exc.errno, exc.rule) == ("EINVAL", "unknown-flags")


def test_preserve_context_unknown_without_kexec_jump():
    m = Machine.build("64MiB", config=KernelConfig(kexec_jump=False))
    exc = rejected(Loader(m), [GOOD], flags=KEXEC_PRESERVE_CONTEXT)
    assert exc.rule == "unknown-flags"


def test_stage_bits_unknown_without_multistage():
    m = Machine.build("64MiB", config=KernelConfig(multistage=False))
    assert rejected(Loader(m), [GOOD], flags=0x100).rule == "unknown-flags"


def test_arch(loader):
    assert load(loader, [GOOD], flags=arch_flag("x86_64")).state == "loaded"
    assert load(loader, [GOOD], flags=0).state == "loaded"
    exc = rejected(loader, [GOOD], flags=arch_flag("aarch64"))
    assert (exc.errno, exc.rule) == ("EINVAL", "wrong-arch")


def test_too_many_segments(loader):
    segs = [Segment(0x100000 + i * 0x1000, 0x1000) for i in range(17)]
    assert rejected(loader, segs).rule == "too-many-segments"
    assert load(loader, segs[:16]).segments == 16


def test_arch_versus_count_order_differs_between_rule_sets():
    segs = [Segment(0x100000 + i * 0x1000, 0x1000) for i in range(17)]
    flags = arch_flag("aarch64")
    old = rejected(Loader(Machine.build("64MiB"), rules="2008"), segs, flags)
    new = rejected(Loader(Machine.build("64MiB"), rules="2016"), segs, flags)
    assert old.rule == "wrong-arch" and new.rule == "too-many-segments"


def test_ebusy_when_lock_held(loader):
    with loader.hold_lock():
        assert rejected(loader, [Segment(0x100001, 1)]).errno == "EBUSY"
    assert load(loader, [GOOD]).state == "loaded"


def test_flags_checked_before_lock(loader):
    with loader.hold_lock():
        assert rejected(loader, [GOOD], flags=0x40).rule == "unknown-flags"


def test_unaligned_mem_and_end(loader):
    assert rejected(loader, [Segment(0x100800, 0x1000)]).rule == "segment-unaligned"
    exc = rejected(loader, [GOOD, Segment(0x200000, 0x1800)])
    assert (exc.errno, exc.rule, exc.segments) == ("EADDRNOTAVAIL", "segment-unaligned", (1,))


def test_destination_limit(loader):
    limit = loader.machine.config.destination_limit
    exc = rejected(loader, [Segment(limit + 1 - 0x1000, 0x1000)])
    assert (exc.errno, exc.rule) == ("EADDRNOTAVAIL", "segment-beyond-limit")


def test_overlap_uses_half_open_ranges(loader):
    touching = [Segment(0x100000, 0x1000), Segment(0x101000, 0x1000)]
    assert load(loader, touching).segments == 2
    exc = rejected(loader, [Segment(0x100000, 0x2000), Segment(0x300000, 0x1000), Segment(0x101000, 0x1000)])
    assert (exc.errno, exc.rule, exc.segments) == ("EINVAL", "segment-overlap", (0, 2))


def test_bufsz_exceeds_memsz(loader):
    exc = rejected(loader, [Segment(0x100000, 0x1000, 0x1001)])
    assert (exc.errno, exc.rule) == ("EINVAL", "bufsz-exceeds-memsz")


def test_alignment_beats_overlap_beats_bufsz(loader):
    segs = [Segment(0x100000, 0x2000, 0x3000), Segment(0x101000, 0x1000), Segment(0x200800, 0x1000)]
    assert rejected(loader, segs).rule == "segment-unaligned"
    assert rejected(loader, segs[:2]).rule == "segment-overlap"
    assert rejected(loader, segs[:1]).rule == "bufsz-exceeds-memsz"


def test_wraparound_only_checked_by_2016():
    wrap = Segment(0xFFFFFFFFFFFFF000, 0x2000)
    new = rejected(Loader(Machine.build("64MiB"), rules="2016"), [wrap])
    assert (new.errno, new.rule) == ("EADDRNOTAVAIL", "segment-wraps")
    # 2008: mem + memsz wraps to 0x1000, which passes alignment and the limit, so the load goes on
    old = Loader(Machine.build("64MiB"), rules="2008")
    assert old.kexec_load(0, [wrap], 0).state == "loaded"
    with pytest.raises(RelocationError, match="beyond physical memory"):
        kernel_kexec(old)


def test_half_of_ram_rules_2016_only():
    m = Machine.build("64MiB")               # 16384 pages, half is 8192
    big = Segment(0, 8193 * 4096)
    exc = rejected(Loader(m, rules="2016"), [big])
    assert (exc.errno, exc.rule) == ("EINVAL", "segment-exceeds-half-ram")
    two = [Segment(0, 5000 * 4096), Segment(0x2000000, 4000 * 4096)]
    assert rejected(Loader(m, rules="2016"), two).rule == "total-exceeds-half-ram"
    assert Loader(Machine.build("64MiB"), rules="2008").kexec_load(0, two, 0).state == "loaded"


def test_crash_entry_and_range():
    m = Machine.build("64MiB", crash=(32 * MiB, 48 * MiB))
    ld = Loader(m)
    inside = Segment(33 * MiB, 0x2000, 0x2000)
    exc = rejected(ld, [inside], KEXEC_ON_CRASH, entry=0x1000)
    assert (exc.errno, exc.rule) == ("EADDRNOTAVAIL", "entry-outside-crash-region")
    exc = rejected(ld, [Segment(47 * MiB, 2 * MiB)], KEXEC_ON_CRASH, entry=33 * MiB)
    assert (exc.errno, exc.rule) == ("EADDRNOTAVAIL", "segment-outside-crash-region")
    r = ld.kexec_load(33 * MiB, [inside], KEXEC_ON_CRASH)
    assert r.slot == "crash" and ld.crash_image is not None and ld.image is None
    # crash images get no source pages: the bytes go straight into the region, the list is just DONE
    assert ld.crash_image.head == 0x4 and ld.crash_image.indirection_pages == []
    assert ld.crash_image.swap_page == -1 and 32 * MiB >> 12 <= ld.crash_image.control_code_page < 48 * MiB >> 12


def test_crash_load_without_region():
    assert rejected(Loader(Machine.build("64MiB")), [GOOD], KEXEC_ON_CRASH).rule == "no-crash-region"


def test_2016_eperm_for_disabled_and_limits():
    ld = Loader(Machine.build("64MiB"), rules="2016")
    ld.load_limit["normal"] = 1
    ld.kexec_load(0x100000, [GOOD], 0)
    assert rejected(ld, [GOOD]).rule == "load-limit-reached"
    ld.kexec_load_disabled = True
    assert rejected(ld, [GOOD]).rule == "kexec-load-disabled"
    # the 2008 rules know neither
    old = Loader(Machine.build("64MiB"), rules="2008")
    old.kexec_load_disabled = True
    assert old.kexec_load(0x100000, [GOOD], 0).state == "loaded"


def test_user_copy_fault_errno_per_rule_set():
    short = Segment(0x100000, 0x2000, 0x2000, data=b"x" * 0x1800)
    assert rejected(Loader(Machine.build("64MiB"), rules="2008"), [short]).errno == "EIO"
    assert rejected(Loader(Machine.build("64MiB"), rules="2016"), [short]).errno == "EFAULT"


def test_segment_field_validation():
    with pytest.raises(ValueError):
        Segment(-1, 0)
    with pytest.raises(ValueError):
        Segment(0, 1 << 64)
    with pytest.raises(ValueError):
        Segment(0, 0x2000, 0x2000, tags=np.arange(1))


def test_check_flags_accepts_arch_bits():
    check_flags(arch_flag("x86_64") | KEXEC_PRESERVE_CONTEXT, 1, KernelConfig(), RULES["2008"])
    with pytest.raises(KexecError):
        check_flags(KEXEC_ARCH_MASK, 1, KernelConfig(), RULES["2008"])


segment_st = st.builds(Segment, mem=st.integers(0, 64).map(lambda p: p * 0x800),
                       memsz=st.integers(0, 8).map(lambda p: p * 0x800), bufsz=st.integers(0, 0x5000))


@given(st.lists(segment_st, max_size=6), st.sampled_from(["2008", "2016"]))
def test_first_failing_rule_decides(segs, rules):
    """Oracle: the rules, each over all segments, in the kernel's order."""
    rs, cfg = RULES[rules], KernelConfig()
    expected = None
    if any(s.mem % 4096 or s.end % 4096 for s in segs):
        expected = "segment-unaligned"
    elif any(b.overlaps(a) for i, b in enumerate(segs) for a in segs[:i]):
        expected = "segment-overlap"
    elif any(s.bufsz > s.memsz for s in segs):
        expected = "bufsz-exceeds-memsz"
    try:
        sanity_check_segment_list(segs, rs, cfg, ram_pages=1 << 20)
        got = None
    except KexecError as exc:
        got = exc.rule
    assert got == expected
