"""Compilation settings shared by every kernel.

``fastmath`` stays off by default: it lets LLVM reorder floating-point sums,
and the engine promises bit-identical event logs for a seed. Set
``ANJEON_FASTMATH=1`` only for exploratory speed studies.
"""

import os

FASTMATH: bool = os.environ.get("ANJEON_FASTMATH", "0") == "1"
