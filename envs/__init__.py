"""purerl's simulators: numba kernels over arrays, wrapped in Gymnasium-style shells.

Importing this package compiles nothing; kernels compile (or load from numba's
cache) on first use.
"""
