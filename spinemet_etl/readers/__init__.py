"""Readers, one per source kind, behind the interface of `readers.base`."""
