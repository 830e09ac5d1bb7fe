"""Options shared by the commands that run the simulated loader."""
from __future__ import annotations

import argparse

from ..allocator import POLICIES
from ..hashing import HASHES


def positive_int(text: str) -> int:
    value = int(text, 0)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_loader_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", choices=("2008", "2016"), default="2008",
                        help="kernel checks: 2.6.27 (2008) or 4.8+ with the half-of-RAM limits (2016)")
    parser.add_argument("--index", choices=("hash", "linear"), default="hash",
                        help="destination lookup: labkit's hash table or the kernel's linear walk")
    parser.add_argument("--hash", choices=HASHES, default="golden", help="hash function of the hash index")
    parser.add_argument("--buckets", type=positive_int, default=None,
                        help="fixed bucket count (default: grow with the image)")
    parser.add_argument("--policy", choices=POLICIES, default="lowest", help="which free page the allocator hands out")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--entry-size", type=int, choices=(8, 4), default=8,
                        help="bytes per entry word: 8 (x86_64, 511 entries per page) or 4 (i386, 1023)")
