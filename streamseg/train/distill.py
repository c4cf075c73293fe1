"""Distillation: a trained model's soft masks as a second training target.

The teacher (a streamseg checkpoint or an ONNX model of the original skin_segmentation contract:
input ``input`` RGB ``(N, 3, S, S)`` in [0, 1], output a probability) sees the same augmented
batch as the student, so its targets follow every augmentation. Its output is resized to the
student's size. The extra loss term is :func:`~streamseg.train.trainer.seg_loss` against the soft
target (BCE with soft labels + soft IoU), weighted by ``distill_weight``.

Example (on tiny generated data, see ``tests/test_train.py``)::

    teacher = Teacher.load("runs/pose-skin/best.pt")
    soft = teacher(x)          # (N, 1, H, W) float32 in [0, 1], no gradient
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from streamseg.errors import InputError


class Teacher:
    """Soft-mask provider: ``teacher(x)`` with x RGB ``(N, 3, H, W)`` in [0, 1] -> ``(N, 1, H, W)`` probabilities.

    Args:
        fn: batch at the teacher's size -> probability batch.
        size: the teacher's input side (inputs are resized to it and outputs back).
        flip: average the probabilities of each view and of its mirror image (the teacher runs
            twice), as ``streamseg --tta flip`` does at run time.
    """

    def __init__(self, fn, size: int, flip: bool = False) -> None:
        self.fn, self.size, self.flip = fn, size, flip

    @classmethod
    def load(cls, path: str | Path, size: int = 256, flip: bool = False) -> "Teacher":
        """A checkpoint (``.pt``, any arch) or an ONNX model (``.onnx``; its own input size if fixed)."""
        p = Path(path)
        if not p.is_file():
            raise InputError(f"teacher not found: {p}")
        if p.suffix.lower() == ".onnx":
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1  # the student's training owns the core
            sess = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
            inp = sess.get_inputs()[0]
            fixed = inp.shape[-1] if isinstance(inp.shape[-1], int) else size

            def run(x: torch.Tensor) -> torch.Tensor:
                out = sess.run(None, {inp.name: x.numpy().astype(np.float32)})[0]
                return torch.from_numpy(out[:, :1] if out.ndim == 4 else out[:, None])

            return cls(run, fixed, flip)
        from streamseg.train.models import Probability
        from streamseg.train.checkpoint import model_from_checkpoint

        model, ckpt = model_from_checkpoint(p)
        wrapped = Probability(model).eval()
        side = int(ckpt.get("config", {}).get("size", size))

        def run(x: torch.Tensor) -> torch.Tensor:
            return wrapped(x)

        return cls(run, side, flip)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2:]
        inp = x if (h, w) == (self.size, self.size) else F.interpolate(
            x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        out = self.fn(inp.contiguous()).float()
        if self.flip:
            out = 0.5 * (out + self.fn(inp.flip(3).contiguous()).float().flip(3))
        if out.shape[2:] != (h, w):
            out = F.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
        return out.clamp(0.0, 1.0)
