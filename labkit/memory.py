"""Physical memory: what every page frame holds.

Two modes.  In ``tags`` mode a page is one ``uint64`` tag that names its
content (0 is the zero page), so a 64 GiB machine is a 128 MiB array.  Pages
whose content must be *read* as data -- indirection pages full of entry words,
the pgmap text passed to kernel B, the control page's saved state -- hold a
*blob tag* (top bit set) naming a 4 KiB blob, so copying or swapping the tag
moves the data with it, exactly as copying the page would.  In ``bytes`` mode
every page is 4096 real bytes, for small machines where byte-level overlap and
hashes must be exact.

This module is labkit's own model; nothing in the kernel corresponds to it.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from .units import PAGE_SIZE

Mode = Literal["tags", "bytes"]
WORDS_PER_PAGE = PAGE_SIZE // 8
BLOB_BIT = np.uint64(1 << 63)
_TAG_MASK = np.uint64((1 << 63) - 1)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def mix64(x: np.ndarray | int) -> np.ndarray | int:
    """splitmix64's finaliser: a fast, well-spread 64-bit mixing function."""
    scalar = not isinstance(x, np.ndarray)
    z = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return int(z) if scalar else z


def content_tag(owner: int | str, index: np.ndarray | int, seed: int = 0) -> np.ndarray | int:
    """A plain (non-blob, non-zero) tag for page ``index`` of content ``owner``.

    Deterministic in (owner, index, seed), so a run is described by its parameters.
    """
    if isinstance(owner, str):
        owner = int.from_bytes(owner.encode()[:8].ljust(8, b"\0"), "little")
    base = mix64((owner * 0x9E3779B97F4A7C15 + seed * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF)
    scalar = not isinstance(index, np.ndarray)
    with np.errstate(over="ignore"):
        idx = np.asarray(index, dtype=np.uint64)
        tags = mix64(idx * _GOLDEN ^ np.uint64(base)) & _TAG_MASK
    tags = np.where(tags == 0, np.uint64(1), tags)
    return int(tags) if scalar else tags.astype(np.uint64)


def tag_page_bytes(tag: int) -> np.ndarray:
    """The 4096 bytes a plain tag stands for in bytes mode (tag 0 -> zero page)."""
    if tag == 0:
        return np.zeros(PAGE_SIZE, dtype=np.uint8)
    words = mix64(np.arange(WORDS_PER_PAGE, dtype=np.uint64) ^ np.uint64(tag))
    words[0] = np.uint64(tag)
    return words.view(np.uint8)


def is_blob(tag: int) -> bool:
    return bool(tag >> 63)


class PhysicalMemory:
    """Page-frame contents of one machine (``max_pfn`` frames)."""

    def __init__(self, max_pfn: int, mode: Mode = "tags"):
        if mode not in ("tags", "bytes"):
            raise ValueError(f"mode must be 'tags' or 'bytes', got {mode!r}")
        if mode == "bytes" and max_pfn > (1 << 18):
            raise ValueError(f"bytes mode keeps real pages; {max_pfn} pages is too many (at most 262144 = 1 GiB)")
        self.max_pfn = max_pfn
        self.mode: Mode = mode
        self.tags = np.zeros(max_pfn, dtype=np.uint64) if mode == "tags" else None
        self.data = np.zeros((max_pfn, PAGE_SIZE), dtype=np.uint8) if mode == "bytes" else None
        self._blobs: list[np.ndarray] = []

    # --- tags --------------------------------------------------------
    def _check(self, pfn: int) -> None:
        if not 0 <= pfn < self.max_pfn:
            raise IndexError(f"pfn {pfn:#x} outside memory of {self.max_pfn:#x} frames")

    def read_tag(self, pfn: int) -> int:
        """Tag of a page (bytes mode: a fingerprint of its bytes, 0 for a zero page)."""
        self._check(pfn)
        if self.mode == "tags":
            return int(self.tags[pfn])
        return int(fingerprint(self.data[pfn : pfn + 1])[0])

    def write_tag(self, pfn: int, tag: int) -> None:
        self._check(pfn)
        if self.mode == "tags":
            self.tags[pfn] = tag
        else:
            if is_blob(tag):
                raise ValueError("blob tags exist only in tags mode")
            self.data[pfn] = tag_page_bytes(tag)

    def fill_tags(self, pfns: np.ndarray, tags: np.ndarray) -> None:
        """Set many pages at once (bytes mode expands every tag)."""
        if self.mode == "tags":
            self.tags[pfns] = tags
        else:
            for p, t in zip(pfns.tolist(), tags.tolist()):
                self.data[p] = tag_page_bytes(t)

    # --- bytes -------------------------------------------------------
    def write_bytes(self, pfn: int, data: bytes | np.ndarray) -> None:
        """Clear a page, then copy ``data`` (at most one page) to its start."""
        self._check(pfn)
        buf = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data
        if len(buf) > PAGE_SIZE:
            raise ValueError("more than one page of data")
        if self.mode == "bytes":
            self.data[pfn] = 0
            self.data[pfn, : len(buf)] = buf
            return
        if not buf.any():
            self.tags[pfn] = 0
            return
        page = np.zeros(PAGE_SIZE, dtype=np.uint8)
        page[: len(buf)] = buf
        self.tags[pfn] = self._new_blob(page.view(np.uint64))

    def read_bytes(self, pfn: int) -> bytes:
        self._check(pfn)
        if self.mode == "bytes":
            return self.data[pfn].tobytes()
        tag = int(self.tags[pfn])
        if is_blob(tag):
            return self._blobs[tag & ((1 << 63) - 1)].tobytes()
        return tag_page_bytes(tag).tobytes()

    # --- words (indirection pages, control page data) ----------------
    def init_words(self, pfn: int) -> np.ndarray:
        """Zero a page and return its 512 ``uint64`` words, writable in place."""
        self._check(pfn)
        if self.mode == "bytes":
            self.data[pfn] = 0
            return self.data[pfn].view(np.uint64)
        words = np.zeros(WORDS_PER_PAGE, dtype=np.uint64)
        self.tags[pfn] = self._new_blob(words)
        return words

    def writable_words(self, pfn: int) -> np.ndarray:
        """The words of a page already set up with ``init_words`` (or any page in bytes mode)."""
        self._check(pfn)
        if self.mode == "bytes":
            return self.data[pfn].view(np.uint64)
        tag = int(self.tags[pfn])
        if not is_blob(tag):
            raise ValueError(f"pfn {pfn:#x} holds no word page")
        return self._blobs[tag & ((1 << 63) - 1)]

    def words(self, pfn: int) -> np.ndarray:
        """The 512 words a page holds, as a read-only view."""
        self._check(pfn)
        if self.mode == "bytes":
            out = self.data[pfn].view(np.uint64)
        else:
            tag = int(self.tags[pfn])
            out = self._blobs[tag & ((1 << 63) - 1)] if is_blob(tag) else tag_page_bytes(tag).view(np.uint64)
        view = out.view()
        view.flags.writeable = False
        return view

    def _new_blob(self, words: np.ndarray) -> int:
        self._blobs.append(words)
        return (1 << 63) | (len(self._blobs) - 1)

    # --- moving pages ------------------------------------------------
    def copy_page(self, src: int, dst: int) -> None:
        """``copy_highpage`` / the relocation copy: ``dst`` <- ``src``."""
        if self.mode == "tags":
            self.tags[dst] = self.tags[src]
        else:
            self.data[dst] = self.data[src]

    def snapshot(self, pfns: np.ndarray) -> np.ndarray:
        """Contents of ``pfns`` (tags, or page bytes), for exact comparison later."""
        if self.mode == "tags":
            return self.tags[pfns].copy()
        return self.data[pfns].copy()

    def restore(self, pfns: np.ndarray, saved: np.ndarray) -> None:
        if self.mode == "tags":
            self.tags[pfns] = saved
        else:
            self.data[pfns] = saved

    def mismatches(self, pfns: np.ndarray, expected: np.ndarray) -> np.ndarray:
        """The pfns whose content differs from ``expected`` (a ``snapshot``)."""
        now = self.snapshot(pfns)
        if self.mode == "tags":
            return pfns[now != expected]
        return pfns[(now != expected).any(axis=1)]

    def content_keys(self, pfns: np.ndarray) -> np.ndarray:
        """Per page a key that depends only on content, comparable across memories of one mode."""
        if self.mode == "bytes":
            return fingerprint(self.data[pfns])
        keys = self.tags[pfns].copy()
        blobs = np.flatnonzero(keys >> np.uint64(63))
        if len(blobs):
            pages = np.stack([self._blobs[int(keys[i]) & ((1 << 63) - 1)] for i in blobs]).view(np.uint8)
            keys[blobs] = fingerprint(pages) | BLOB_BIT
        return keys

    def fingerprints(self, pfns: np.ndarray) -> np.ndarray:
        """One uint64 per page, equal for equal contents, in either mode."""
        if self.mode == "tags":
            return self.tags[pfns].copy()
        return fingerprint(self.data[pfns])


def fingerprint(pages: np.ndarray) -> np.ndarray:
    """Fold 4 KiB pages (rows of uint8) into uint64 fingerprints; 0 only for zero pages."""
    words = np.ascontiguousarray(pages).view(np.uint64).reshape(len(pages), WORDS_PER_PAGE)
    coeff = mix64(np.arange(1, WORDS_PER_PAGE + 1, dtype=np.uint64)) | np.uint64(1)
    with np.errstate(over="ignore"):
        fp = mix64((words * coeff).sum(axis=1, dtype=np.uint64))
    nonzero = words.any(axis=1)
    fp = np.where(nonzero & (fp == 0), np.uint64(1), fp)
    return np.where(nonzero, fp & _TAG_MASK, np.uint64(0)).astype(np.uint64)
