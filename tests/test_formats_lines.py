"""The shared line reader strips what mail, terminals and loggers add."""
import io

from labkit.formats import read_memmap, read_segments
from labkit.formats.lines import strip_prefixes

QUOTED_LOG = """\
On Mon, someone wrote:
> Try gzip decompression.
> kexec_load: entry = 0x1740 flags = 0x3e0000
> nr_segments = 1
> segment[0].buf   = 0x563bf72fe5a0
> segment[0].bufsz = 0x198
> segment[0].mem   = 0x1000
> segment[0].memsz = 0x1000
"""


def test_mail_quotes_are_stripped_and_indentation_kept():
    assert strip_prefixes("> > [    1.5] nr_segments = 2") == ("nr_segments = 2", True)
    assert strip_prefixes(">   01000000-01e0305f : Kernel code") == ("  01000000-01e0305f : Kernel code", True)
    assert strip_prefixes("plain") == ("plain", False)


def test_a_log_quoted_in_a_bug_report_reads():
    log = read_segments(io.BytesIO(QUOTED_LOG.encode()))
    assert log.entry == 0x1740 and log.flags == 0x3E0000 and len(log.segments) == 1
    assert log.segments[0].mem == 0x1000 and log.segments[0].bufsz == 0x198


def test_quoted_e820_table():
    text = ("> > [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
            ">>  [    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000003fffffff] usable\n")
    mm = read_memmap(io.BytesIO(text.encode()))
    assert mm.map.ram_bytes == 0x9FC00 + 0x3FF00000
