"""Slow, obvious plain-Python references that the numba kernels and the road network are tested against."""
