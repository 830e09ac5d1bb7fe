"""Relocation at exec time: ``relocate_kernel``'s walk, plain copy or swap, and kexec jump.

``relocate_kernel`` walks the entry words in memory (start from ``head``;
``IND_DESTINATION`` sets the cursor, ``IND_INDIRECTION`` switches page,
``IND_SOURCE`` transfers one page and advances the cursor, ``IND_DONE``
stops; other words, zeros included, are skipped) and either copies each source
page onto its destination or swaps the two through the swap page
(``relocate_kernel_{32,64}.S``).  With ``KEXEC_PRESERVE_CONTEXT`` the
control page keeps what jump back needs (``CP_PA_SWAP_PAGE``,
``CP_PA_BACKUP_PAGES_MAP``); the return address pushed by the ``call`` into
the new kernel is the *jump back entry*, inside the control page.  Jumping back
runs the same walk again and every pair swaps back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import KexecError, RelocationError
from .kimage import IND_DESTINATION, IND_DONE, IND_FLAGS, IND_INDIRECTION, IND_SOURCE, Kimage, decode_list
from .memory import PhysicalMemory, content_tag
from .trace import Costs, Recorder
from .units import PAGE_SHIFT, PAGE_SIZE, hexaddr

Relocation = Literal["copy", "swap"]

#: labkit's control page layout: relocate code in words 0..255 (2 KiB,
#: ``KEXEC_CONTROL_CODE_MAX_SIZE``), data area after it (x86_64 ``CP_PA_*`` order).
CONTROL_CODE_WORDS = 256
CP_PA_TABLE_PAGE = CONTROL_CODE_WORDS + 3
CP_PA_SWAP_PAGE = CONTROL_CODE_WORDS + 4
CP_PA_BACKUP_PAGES_MAP = CONTROL_CODE_WORDS + 5
#: where in the control page the ``call`` into the peer returns to (labkit's choice)
RELOCATE_RETURN_OFFSET = 0x1F0
_CODE_TAG = content_tag("relocate", 0)


@dataclass(frozen=True)
class Jump:
    """The outcome of ``machine_kexec``: where control went, and how to come back."""

    start: int                 # address jumped to
    mode: str                  # copy or swap
    pages: int                 # IND_SOURCE entries transferred
    jump_back_entry: int       # 0 for a plain, non-returning jump
    costs: dict[str, int]


def walk_words(mem: PhysicalMemory, head: int, entry_size: int = 8):
    """Yield (source pfn, destination pfn) as ``relocate_kernel`` visits them, reading memory."""
    word, words, slot = head, None, 0
    dest = 0
    while True:
        kind = word & IND_FLAGS
        if kind & IND_DESTINATION:
            dest = word & ~(PAGE_SIZE - 1)
        elif kind & IND_INDIRECTION:
            words = mem.words(word >> PAGE_SHIFT)
            if entry_size == 4:
                words = words.view(np.uint32)
            slot = 0
            word = int(words[0])
            continue
        elif kind & IND_DONE:
            return
        elif kind & IND_SOURCE:
            yield word >> PAGE_SHIFT, dest >> PAGE_SHIFT
            dest += PAGE_SIZE
        if words is None:
            raise RelocationError(f"entry list head {word:#x} is not an indirection page")
        slot += 1
        if slot >= len(words):
            raise RelocationError("ran off the end of an indirection page without IND_DONE")
        word = int(words[slot])


def _distinct(pfns: np.ndarray, max_pfn: int) -> bool:
    """No pfn twice (a mark per frame: linear, unlike np.unique's sort or hash)."""
    if len(pfns) and (pfns.min() < 0 or pfns.max() >= max_pfn):
        return False
    mark = np.zeros(max_pfn, dtype=bool)
    mark[pfns] = True
    return int(np.count_nonzero(mark)) == len(pfns)


def _vectorised(mem: PhysicalMemory, head: int, mode: str, swap_page: int, entry_size: int) -> int | None:
    """Relocate in bulk when that provably equals the step-by-step walk, else return None.

    Equal when the pairs are disjoint (the kernel's invariant: no destination is
    another entry's source, no two entries share a page) and no destination is
    a page the walker itself reads (indirection pages, the swap page).
    """
    src, dst, pages = decode_list(mem, head, entry_size)
    if len(dst) and (dst.max() >= mem.max_pfn or dst.min() < 0):
        return None
    moved = src != dst
    s, d = src[moved], dst[moved]
    if not (_distinct(np.concatenate((s, d)), mem.max_pfn) and _distinct(src, mem.max_pfn)):
        return None
    if np.isin(dst, np.array(pages + [swap_page], dtype=np.int64)).any():
        return None
    if mode == "swap":
        if mem.mode == "tags":
            a, b = mem.tags[s].copy(), mem.tags[d].copy()
            mem.tags[s], mem.tags[d] = b, a
        else:
            a, b = mem.data[s].copy(), mem.data[d].copy()
            mem.data[s], mem.data[d] = b, a
        if len(src):
            mem.copy_page(int(src[-1]), swap_page)    # the swap page keeps the last source's old bytes...
            if src[-1] != dst[-1]:
                mem.copy_page(int(dst[-1]), swap_page)  # ...which, after the swap, sit at its destination
    elif len(s):
        if mem.mode == "tags":
            mem.tags[d] = mem.tags[s]
        else:
            mem.data[d] = mem.data[s]
    return len(src)


def relocate_kernel(mem: PhysicalMemory, head: int, mode: Relocation, swap_page: int, *,
                    costs: Costs | None = None, recorder: Recorder | None = None,
                    check: bool = False, entry_size: int = 8) -> int:
    """Run the walker; returns the number of pages transferred.

    ``check=True`` verifies the kernel's invariant on the fly: no page is
    written while it is still the source of an entry not yet processed.
    Without a check or a recorder the walk is done in bulk with numpy
    whenever that provably gives the same memory (``_vectorised``).
    """
    costs = costs if costs is not None else Costs()
    if not check and recorder is None:
        moved = _vectorised(mem, head, mode, swap_page, entry_size)
        if moved is not None:
            costs.page_copies += moved * (3 if mode == "swap" else 1)
            costs.pages_relocated += moved
            return moved
    pending: dict[int, int] = {}
    if check:
        for src, _ in walk_words(mem, head, entry_size):
            pending[src] = pending.get(src, 0) + 1
    moved = 0
    for src, dst in walk_words(mem, head, entry_size):
        if dst >= mem.max_pfn:
            raise RelocationError(f"destination {hexaddr(dst << PAGE_SHIFT)} is beyond physical memory: "
                                  f"the real machine would crash here")
        if check:
            pending[src] -= 1
            if pending[src] == 0:
                del pending[src]
            if dst != src and pending.get(dst):
                raise RelocationError(f"destination {hexaddr(dst << PAGE_SHIFT)} is the source of a later "
                                      f"entry and would be overwritten before it is consumed")
        if mode == "swap":
            mem.copy_page(src, swap_page)
            mem.copy_page(dst, src)
            mem.copy_page(swap_page, dst)
            costs.page_copies += 3
        else:
            mem.copy_page(src, dst)
            costs.page_copies += 1
        costs.pages_relocated += 1
        moved += 1
        if recorder is not None:
            recorder.emit("relocate", pfn=dst, dest=dst, src=src, note=mode)
    return moved


def write_control_page(mem: PhysicalMemory, image: Kimage) -> None:
    """``machine_kexec``: copy the relocation code into the control page and save the jump-back data."""
    words = mem.init_words(image.control_code_page)
    words[:CONTROL_CODE_WORDS] = np.uint64(_CODE_TAG)
    words[CP_PA_SWAP_PAGE] = image.swap_page << PAGE_SHIFT
    words[CP_PA_BACKUP_PAGES_MAP] = image.head
    words[CP_PA_TABLE_PAGE] = image.control_code_page << PAGE_SHIFT


def machine_kexec(image: Kimage, *, mode: Relocation | None = None, costs: Costs | None = None,
                  recorder: Recorder | None = None, check: bool = False) -> Jump:
    """Relocate ``image`` and jump to its start.

    ``mode`` defaults to swap for ``preserve_context`` images and copy
    otherwise (x86_64 since 6.14; i386 has always swapped).  A kexec jump
    must swap, or the old kernel's pages are lost: asking for ``copy`` with
    ``preserve_context`` is allowed, to show exactly that.
    """
    if image.type != 0:
        raise ValueError("crash images are entered by a panic, not machine_kexec; they need no relocation")
    mode = mode or ("swap" if image.preserve_context else "copy")
    costs = costs if costs is not None else Costs()
    before = costs.copy()
    if check:
        walker_pages = {image.control_code_page, image.swap_page, *image.indirection_pages}
        hit = [d for _, d in walk_words(image.mem, image.head, image.entry_size) if d in walker_pages]
        if hit:
            raise RelocationError(f"destination {hexaddr(hit[0] << PAGE_SHIFT)} is a page the walker itself uses")
    write_control_page(image.mem, image)
    moved = relocate_kernel(image.mem, image.head, mode, image.swap_page, costs=costs, recorder=recorder,
                            check=check, entry_size=image.entry_size)
    back = (image.control_code_page << PAGE_SHIFT) + RELOCATE_RETURN_OFFSET if image.preserve_context else 0
    return Jump(image.start, mode, moved, back, (costs - before).to_dict())


def kernel_kexec(loader, *, mode: Relocation | None = None, costs: Costs | None = None,
                 recorder: Recorder | None = None, check: bool = False) -> Jump:
    """``reboot(LINUX_REBOOT_CMD_KEXEC)``: EBUSY if the lock is held, EINVAL with nothing loaded."""
    if loader.lock_held:
        raise KexecError("EBUSY", "kexec-lock-held", "another kexec load or exec holds the lock")
    image = loader.image
    if image is None:
        raise KexecError("EINVAL", "no-image-loaded", "reboot(LINUX_REBOOT_CMD_KEXEC) with no image loaded")
    jump = machine_kexec(image, mode=mode, costs=costs if costs is not None else loader.costs,
                         recorder=recorder if recorder is not None else loader.recorder, check=check)
    if image.preserve_context:
        image.start = jump.start  # until the peer returns, the next exec re-enters the same start
    return jump


def jump_back(mem: PhysicalMemory, entry: int, *, costs: Costs | None = None,
              recorder: Recorder | None = None, entry_size: int = 8) -> int:
    """A peer calls the jump back entry: the old kernel's code swaps its list once more.

    Reads the swap page and the backup pages map from the control page in
    memory, as the assembly does, so a control page that was not preserved
    fails loudly.  Returns the pages swapped back.
    """
    control = entry >> PAGE_SHIFT
    words = mem.words(control)
    if not (words[:CONTROL_CODE_WORDS] == np.uint64(_CODE_TAG)).all():
        raise RelocationError(f"no relocation code at the jump back entry {hexaddr(entry)}: "
                              f"the old kernel's control page was not preserved")
    head = int(words[CP_PA_BACKUP_PAGES_MAP])
    swap_page = int(words[CP_PA_SWAP_PAGE]) >> PAGE_SHIFT
    return relocate_kernel(mem, head, "swap", swap_page, costs=costs, recorder=recorder, entry_size=entry_size)
