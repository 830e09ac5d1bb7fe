"""e820 type numbers and the words the kernel prints for them.

``e820_print_type`` of ``arch/x86/kernel/e820.c`` prints ``usable``,
``reserved``, ``soft reserved``, ``ACPI data``, ``ACPI NVS``, ``unusable``,
``persistent (type N)`` for 7 and 12 and ``type N`` for anything else;
2.6-era kernels wrapped the words in parentheses (``(usable)``).  Readers map
the words back to numbers and then to labkit's canonical type names
(``labkit.memmap.e820_type_name``), keeping the printed word as the range's
name so nothing the firmware said is lost.
"""
from __future__ import annotations

import re

from ..memmap import e820_type_name

E820_TYPE_RAM = 1
E820_TYPE_RESERVED = 2
E820_TYPE_ACPI = 3
E820_TYPE_NVS = 4
E820_TYPE_UNUSABLE = 5
E820_TYPE_PMEM = 7
E820_TYPE_PRAM = 12
E820_TYPE_SOFT_RESERVED = 0xEFFFFFFF
E820_TYPE_RESERVED_KERN = 128

_WORDS = {
    "usable": E820_TYPE_RAM,
    "reserved": E820_TYPE_RESERVED,
    "soft reserved": E820_TYPE_SOFT_RESERVED,
    "acpi data": E820_TYPE_ACPI,
    "acpi nvs": E820_TYPE_NVS,
    "unusable": E820_TYPE_UNUSABLE,
}
_PRINTED = {E820_TYPE_RAM: "usable", E820_TYPE_RESERVED: "reserved", E820_TYPE_SOFT_RESERVED: "soft reserved",
            E820_TYPE_ACPI: "ACPI data", E820_TYPE_NVS: "ACPI NVS", E820_TYPE_UNUSABLE: "unusable"}

#: a printed type at the start of a text, optionally in parentheses (2.6 style)
TYPE_RX = re.compile(
    r"(?P<open>\()?(?P<word>soft reserved|reserved|usable|acpi data|acpi nvs|unusable"
    r"|persistent \(type (?P<pnum>\d{1,10})\)|type (?P<num>\d{1,10}))(?(open)\))",
    re.IGNORECASE)

#: "type N" numbers are u32 in the kernel
E820_TYPE_MAX = 0xFFFFFFFF


def e820_printed_name(number: int) -> str:
    """What the kernel prints for e820 type ``number`` (``usable``, ``type 20``, ...)."""
    if number in _PRINTED:
        return _PRINTED[number]
    if number in (E820_TYPE_PMEM, E820_TYPE_PRAM):
        return f"persistent (type {number})"
    return f"type {number}"


def e820_number(match: "re.Match[str]") -> int:
    """The type number a ``TYPE_RX`` match names."""
    if match.group("pnum") is not None:
        return int(match.group("pnum"))
    if match.group("num") is not None:
        return int(match.group("num"))
    return _WORDS[match.group("word").lower()]


def e820_type(number: int) -> tuple[str, str]:
    """``(canonical type, printed name)`` of an e820 type number."""
    return e820_type_name(number), e820_printed_name(number)
