"""streamseg: real-time skin segmentation for webcams, IP cameras and video files.

Frames are BGR ``uint8`` arrays of shape ``(H, W, 3)``; skin probabilities are ``float32``
arrays of shape ``(H, W)`` in ``[0, 1]`` until the last step, where a threshold makes the mask.

Example:
    >>> import numpy as np
    >>> from streamseg.segment import create
    >>> seg = create("ellipse")
    >>> prob = seg(np.zeros((4, 6, 3), np.uint8))
    >>> prob.shape, prob.dtype
    ((4, 6), dtype('float32'))
"""

__version__ = "0.1.0"
