"""REFI-QDA exchange: codebooks (.qdc) and projects (.qdpx) in and out of the ledger.

``writer`` turns plain data from the projections into QDA-XML; ``reader`` parses untrusted files into plain
Structs; ``ingest`` turns what was read into ledger events (one append per import).
"""
