"""Classical colour-rule skin detectors (numba kernels with NumPy references)."""
