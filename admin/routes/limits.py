"""Bounds shared by the list endpoints (SQLite integers are 64-bit; a client
must not be able to turn a huge offset into a server error)."""

MAX_OFFSET = 1_000_000
