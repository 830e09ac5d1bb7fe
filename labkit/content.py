"""What a segment puts into each destination page: ``clear_page`` then ``copy_from_user``.

Shared by loading (``kimage_load_normal_segment``/``kimage_load_crash_segment``)
and by the verifier, so the two can never disagree about a page's content.
"""
from __future__ import annotations

import numpy as np

from .memory import PhysicalMemory, content_tag, tag_page_bytes
from .segments import Segment
from .units import PAGE_SHIFT, PAGE_SIZE

#: a page's content: ``0`` (zero page), a plain tag (int) or up to 4096 bytes
PageContent = int | bytes


def user_chunk(seg: Segment, page_index: int) -> int:
    """Bytes copied from the user buffer into page ``page_index`` (the rest is zero fill)."""
    return max(0, min(seg.bufsz - page_index * PAGE_SIZE, PAGE_SIZE))


def copy_faults(seg: Segment, page_index: int) -> bool:
    """Whether ``copy_from_user`` faults on this page: ``data`` ends before ``bufsz``."""
    need = page_index * PAGE_SIZE + user_chunk(seg, page_index)
    return seg.data is not None and user_chunk(seg, page_index) > 0 and len(seg.data) < need


def page_content(seg: Segment, page_index: int, mode: str) -> PageContent:
    """Content of destination page ``page_index`` of ``seg`` in a memory of ``mode``."""
    off = page_index * PAGE_SIZE
    uchunk = user_chunk(seg, page_index)
    if uchunk == 0:
        return 0
    if seg.data is not None:
        return bytes(seg.data[off: off + uchunk])
    tag = int(seg.tags[page_index]) if seg.tags is not None else int(content_tag("userbuf", (seg.buf + off) >> PAGE_SHIFT))
    if uchunk < PAGE_SIZE and mode == "bytes":
        return tag_page_bytes(tag).tobytes()[:uchunk]
    return tag


def write_page(mem: PhysicalMemory, pfn: int, content: PageContent) -> None:
    if isinstance(content, bytes):
        mem.write_bytes(pfn, content)
    elif content == 0 and mem.mode == "bytes":
        mem.write_bytes(pfn, b"")
    else:
        mem.write_tag(pfn, content)


def expected_contents(segments: list[Segment], mode: str) -> dict[int, PageContent]:
    """Destination pfn -> content after relocation; later segments win where they overlap
    earlier ones (labkit's multi-stage overlap rule)."""
    final: dict[int, PageContent] = {}
    for seg in segments:
        for i in range(seg.pages):
            final[seg.first_pfn + i] = page_content(seg, i, mode)
    return final


def verify_segments(mem: PhysicalMemory, segments: list[Segment]) -> np.ndarray:
    """Destination pfns whose content differs from what the segments say (empty = verified)."""
    final = expected_contents(segments, mem.mode)
    pfns = np.array(sorted(final), dtype=np.int64)
    if len(pfns) == 0:
        return pfns
    scratch = PhysicalMemory(len(pfns), mem.mode)  # type: ignore[arg-type]
    for k, p in enumerate(pfns.tolist()):
        write_page(scratch, k, final[p])
    expected = scratch.content_keys(np.arange(len(pfns)))
    return pfns[mem.content_keys(pfns) != expected]
