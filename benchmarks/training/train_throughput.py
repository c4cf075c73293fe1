"""Training throughput (forward + backward + AdamW, images/s) of the streamseg architectures on this machine.

Usage:
    .venv/bin/python -m benchmarks.training.train_throughput --arch dlmv --size 160 192 256 --batch 8 --threads 1
    .venv/bin/python -m benchmarks.training.train_throughput --arch u2netp --size 160 --channels-last

Random inputs, so data loading is not included. Compare thread counts on the machine you train on:
on a busy 2-core machine 2 threads were 20x slower than 1.
"""

from __future__ import annotations

import argparse

import torch

from streamseg.train.config import TrainConfig
from streamseg.train.models import build_model
from streamseg.train.trainer import make_optimizer, model_loss
from benchmarks.timing import now


def throughput(arch: str, size: int, batch: int, channels_last: bool, steps: int = 5, warmup: int = 2) -> float:
    """Images per second of ``steps`` training steps after ``warmup`` steps."""
    cfg = TrainConfig(arch=arch)
    model = build_model(arch).train()
    x = torch.rand(batch, 3, size, size)
    y = (torch.rand(batch, 1, size, size) > 0.5).float()
    w = torch.ones(batch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg)
    for i in range(warmup + steps):
        if i == warmup:
            t0 = now()
        loss = model_loss(model(x), y, w, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return steps * batch / (now() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="dlmv", choices=["dlmv", "u2netp"])
    ap.add_argument("--size", type=int, nargs="+", default=[160, 192, 256])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for s in args.size:
        ips = throughput(args.arch, s, args.batch, args.channels_last, args.steps)
        print(f"{args.arch} size {s} batch {args.batch} threads {args.threads} "
              f"channels_last {args.channels_last}: {ips:.2f} images/s", flush=True)


if __name__ == "__main__":
    main()
