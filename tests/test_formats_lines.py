"""The shared line reader strips what mail, terminals and loggers add."""
import io

import pytest

from labkit.errors import ParseError

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


# Shape seen in a 2024 bug report on the linux-pci/stable lists saved with its
# mail headers: the body is quoted-printable, so long dmesg lines are cut by
# soft line breaks ("usabl=" / "e") and "==>" reads "=3D=3D>".
QP_MAIL = """\
From: someone <someone@example.org>
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: quoted-printable

Dmesg Log as below:
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000005efff] usabl=
e
[    0.000000] BIOS-e820: [mem 0x000000000005f000-0x000000000005ffff] reser=
ved
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007c764fff] usabl=
e
[    0.000000] e820: update [mem 0x67cec018-0x67cfc057] usable =3D=3D> usab=
le
[    0.000000] reserve setup_data: [mem 0x0000000000000000-0x000000000005ef=
ff] usable
[    0.000569] e820: update [mem 0x00000000-0x00000fff] usable =3D=3D> rese=
rved
"""


def test_quoted_printable_mail_body_is_decoded():
    mm = read_memmap(io.BytesIO(QP_MAIL.encode()))
    assert mm.format == "e820" and len(mm.map) == 3
    assert mm.map.ram_bytes == 0x5F000 + (0x7C765000 - 0x100000)
    kinds = [(m.kind, m.start, m.end, m.new_type) for m in mm.modifications]
    assert kinds == [("update", 0x67CEC018, 0x67CFC058, "ram"), ("table", 0, 0x5F000, "ram"),
                     ("update", 0, 0x1000, "reserved")]
    # the (one-row) setup_data table is a snapshot of the whole map, then page 0 becomes reserved
    assert mm.applied().ram_bytes == 0x5F000 - 0x1000


def test_quoted_printable_line_keeps_the_number_of_its_first_piece():
    bad = QP_MAIL.replace("0x000000007c764fff] usabl=\ne", "0x000000007c764fff] usabx=\ne")
    with pytest.raises(ParseError) as info:
        read_memmap(io.BytesIO(bad.encode()))
    assert info.value.line == 11 and "usabxe" in info.value.text


def test_soft_breaks_are_not_decoded_without_a_quoted_printable_header():
    # without the header a trailing "=" is text: the cut row is a broken e820 row, not silently repaired
    body = QP_MAIL.split("\n\n", 1)[1]
    with pytest.raises(ParseError) as info:
        read_memmap(io.BytesIO(body.encode()))
    assert info.value.line == 3 and "e820 type" in info.value.expected
