"""``/proc/kexec_pgmap`` v1: write, read (pandas), validate, summarise.

The format is labkit's own (docs/pgmap-format.md); the 2008 patch that would
have defined a kernel interface for the backup pages map is lost.
"""
from __future__ import annotations

from .model import PgMap, Tolerance
from .reader import read_pgmap
from .summary import PgMapSummary, RunStats, summarise_pgmap
from .validate import Finding, validate_pgmap
from .writer import format_pgmap, write_pgmap

__all__ = ["PgMap", "Tolerance", "read_pgmap", "write_pgmap", "format_pgmap", "validate_pgmap",
           "Finding", "summarise_pgmap", "PgMapSummary", "RunStats"]
