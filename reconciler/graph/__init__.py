"""Dependency graph of a stack's blocks and the parallel walk over it."""
