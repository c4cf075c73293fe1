"""The training loop: BCE + soft-IoU loss, AdamW, warm-up then cosine, checkpoints every epoch.

Checkpoints (``<out>/last.pt`` every epoch, ``<out>/best.pt`` at the best val mIoU) are plain
dicts of tensors, numbers, strings and lists written with ``torch.save`` and read back with
``torch.load(..., weights_only=True)``: model, optimizer and scheduler state, completed epochs,
step, best metric, history and the config. ``--resume`` continues exactly where a run stopped
(a larger ``--epochs`` extends the cosine schedule from there).

Example (a 2-step run on generated data is in ``tests/test_train.py``)::

    from streamseg.train.config import TrainConfig
    from streamseg.train.trainer import train
    train(TrainConfig.load("configs/dlmv-256.toml"), data="../shared/data/skin", out="runs/dlmv-256")
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from streamseg import log
from streamseg.errors import ConfigError
from streamseg.train.checkpoint import CKPT_VERSION, load_checkpoint, model_from_checkpoint, save_checkpoint  # noqa: F401 (re-exported)
from streamseg.train.config import TrainConfig
from streamseg.train.models import build_model, count_parameters, main_output



def seg_loss(
    logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, bce_weight: float = 1.0, iou_weight: float = 1.0
) -> torch.Tensor:
    """BCE + soft-IoU (Jaccard) loss, per image, weighted mean over the batch.

    logits, target: (N, 1, H, W) float (target in [0, 1]); weight: (N,) float >= 0. Returns a scalar.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").mean(dim=(1, 2, 3))
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    union = (p + target - p * target).sum(dim=(1, 2, 3))
    soft_iou = (inter + 1.0) / (union + 1.0)  # +1: an empty mask predicted empty scores 1
    per_image = bce_weight * bce + iou_weight * (1.0 - soft_iou)
    return (per_image * weight).sum() / weight.sum().clamp_min(1e-6)


def model_loss(out, target: torch.Tensor, weight: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """Loss of a model output: one tensor, or U²-NetP's ``[fused, side1..6]`` (deep supervision)."""
    if isinstance(out, (list, tuple)):
        total = seg_loss(out[0], target, weight, cfg.bce_weight, cfg.iou_weight)
        for side in out[1:]:
            total = total + cfg.side_weight * seg_loss(side, target, weight, cfg.bce_weight, cfg.iou_weight)
        return total
    return seg_loss(out, target, weight, cfg.bce_weight, cfg.iou_weight)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on BatchNorm parameters and biases."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )


def lr_factor(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Linear warm-up to 1 over ``warmup_steps``, then cosine down to ``min_ratio`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * t))


class _Progress:
    """A rich progress bar on a terminal; a plain line every ``every`` steps otherwise (log files)."""

    def __init__(self, total_epochs: int, steps_per_epoch: int, first_epoch: int) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.tty = log.console.is_terminal
        self.steps_per_epoch = steps_per_epoch
        self.total = (total_epochs - first_epoch + 1) * steps_per_epoch
        self.total_epochs = total_epochs
        self.every = max(1, steps_per_epoch // 10)
        self.t0 = time.perf_counter()
        self.done = 0
        self.progress = None
        if self.tty:
            self.progress = Progress(
                TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]} @{task.fields[size]}"),
                BarColumn(),
                TextColumn("loss {task.fields[loss]:.4f}  val mIoU {task.fields[miou]}  {task.fields[ips]:.1f} img/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=log.console,
            )
            self.task = self.progress.add_task(
                "train", total=self.total, epoch=first_epoch, epochs=total_epochs, size=0, loss=0.0, miou="-", ips=0.0
            )
            self.progress.start()

    def update(self, epoch: int, size: int, step: int, loss: float, ips: float, miou: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress.update(self.task, advance=1, epoch=epoch, size=size, loss=loss, ips=ips, miou=miou)
        elif step % self.every == 0 or step == self.steps_per_epoch:
            el = time.perf_counter() - self.t0
            eta = el / self.done * (self.total - self.done)
            log.info(
                f"epoch {epoch}/{self.total_epochs} @{size} step {step}/{self.steps_per_epoch} loss {loss:.4f} "
                f"val mIoU {miou} {ips:.1f} img/s ETA {eta / 60:.1f} min"
            )

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def train(
    cfg: TrainConfig,
    data: str | Path,
    out: str | Path,
    resume: str | Path | None = None,
    max_steps: int = 0,
    init: str | Path | None = None,
) -> dict:
    """Train ``cfg.arch`` on the ``train`` split of ``data``, validate on ``val`` every epoch.

    Writes ``last.pt``, ``best.pt``, ``history.json`` and ``config.json`` into ``out``.
    ``resume`` continues a run (its optimizer, schedule and epoch count; a weights-only checkpoint
    starts a new schedule); ``init`` takes only the model weights of any checkpoint and starts a new
    run from them (a second training stage).
    ``max_steps`` > 0 stops after that many optimizer steps in total (tests, smoke runs).
    Returns a summary: ``{"best_miou", "best_epoch", "epochs_done", "losses", "history"}``.
    """
    from streamseg.train.data import TrainSet, build_cache, load_scenes, sampling_pool, worker_init
    from streamseg.train.validate import evaluate, load_valset, torch_predictor

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    # one OpenCV thread, set before any DataLoader fork (a child that touches a parent's pool deadlocks)
    import cv2

    cv2.setNumThreads(1)
    torch.manual_seed(cfg.seed)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))

    cache = build_cache(data, cfg.cache_dir, cfg.effective_cache_side, split="train", progress=True)
    weights = np.array([cfg.weak_weight if q == "weak" else 1.0 for q in cache.qualities], np.float32)
    scenes = load_scenes(cfg.scenes, "train", cfg.effective_cache_side) if cfg.scenes else None
    if scenes:
        log.info(f"{len(scenes)} scenes without people from {cfg.scenes} (p_scene {cfg.augment.p_scene}, p_scene_paste {cfg.augment.p_scene_paste})")
    valsets: dict[int, object] = {}
    n_train = len(cache.ids)
    pool = sampling_pool(cache.masks, cfg.empty_repeat)
    if cfg.empty_repeat > 1:
        log.info(f"{len(pool) - n_train} extra draws of the {(len(pool) - n_train) // (cfg.empty_repeat - 1)} train images without skin (empty_repeat {cfg.empty_repeat})")
    epoch_size = min(cfg.epoch_size or n_train, len(pool))
    steps_per_epoch = max(1, epoch_size // cfg.batch)
    total_steps = steps_per_epoch * cfg.epochs
    warmup_steps = int(cfg.warmup_epochs * steps_per_epoch)

    model = build_model(cfg.arch)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_factor(s, total_steps, warmup_steps, cfg.min_lr_ratio)
    )
    start_epoch, step, best, best_epoch, history = 1, 0, -1.0, 0, []
    ckpt = None
    if resume and init:
        raise ConfigError("give --resume (continue a run) or --init (new run from weights), not both")
    if resume or init:
        source = resume or init
        ckpt = load_checkpoint(source)
        if ckpt["arch"] != cfg.arch:
            raise ConfigError(f"arch: checkpoint {source} is {ckpt['arch']!r}, config says {cfg.arch!r}")
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()})
        if init or "optimizer" not in ckpt:  # weights only (checkpoints/*.pt in git, or --init): new schedule
            log.info(f"initialised from weights {source} (epoch {ckpt.get('epoch')}); optimizer and schedule start afresh")
            ckpt = None
    if ckpt is not None:
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start_epoch = int(ckpt["epoch"]) + 1
        step = int(ckpt["step"])
        best, best_epoch = float(ckpt["best_miou"]), int(ckpt["best_epoch"])
        history = list(ckpt.get("history", []))
        log.info(f"resumed {resume}: epoch {start_epoch - 1} done, step {step}, best val mIoU {best:.4f}")
    fwd = torch.compile(model) if cfg.compile else model
    teacher = None
    if cfg.distill_weight > 0:
        from streamseg.train.distill import Teacher

        teacher = Teacher.load(cfg.teacher, cfg.size, flip=cfg.teacher_flip)
        log.info(
            f"distilling from {cfg.teacher} (weight {cfg.distill_weight}, teacher input {teacher.size} px"
            + (", with its mirror view)" if cfg.teacher_flip else ")")
        )

    log.info(
        f"training {cfg.arch} ({count_parameters(model) / 1e6:.2f}M parameters) on {n_train} images, "
        f"{steps_per_epoch} steps x batch {cfg.batch} per epoch, epochs {start_epoch}-{cfg.epochs}, "
        f"out {out}"
    )
    bar = _Progress(cfg.epochs, steps_per_epoch, start_epoch)
    losses: list[float] = []
    miou_txt = f"{best:.4f}" if best >= 0 else "-"
    stop = False
    try:
        for epoch in range(start_epoch, cfg.epochs + 1):
            size = cfg.size_at(epoch)
            ds = TrainSet(cache, size, cfg.augment, weights, seed=cfg.seed * 100003 + epoch, scenes=scenes)
            order = np.random.default_rng(cfg.seed * 7919 + epoch).permutation(pool)[: steps_per_epoch * cfg.batch]
            loader = torch.utils.data.DataLoader(
                torch.utils.data.Subset(ds, order.tolist()),
                batch_size=cfg.batch,
                shuffle=False,
                drop_last=True,
                num_workers=cfg.workers,
                worker_init_fn=worker_init,
                generator=torch.Generator().manual_seed(cfg.seed + epoch),
            )
            model.train()
            t_ep, run_loss, n_img = time.perf_counter(), 0.0, 0
            for i, (x, y, w, trust) in enumerate(loader, 1):
                if cfg.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                pred = fwd(x)
                loss = model_loss(pred, y, w, cfg)
                if teacher is not None:
                    soft = teacher(x) * trust  # a scene's pixels hold no skin, whatever the teacher says
                    loss = loss + cfg.distill_weight * seg_loss(main_output(pred), soft, w, cfg.bce_weight, cfg.iou_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                step += 1
                lv = float(loss.detach())
                losses.append(lv)
                run_loss = lv if i == 1 else 0.95 * run_loss + 0.05 * lv
                n_img += x.shape[0]
                bar.update(epoch, size, i, run_loss, n_img / (time.perf_counter() - t_ep), miou_txt)
                if max_steps and len(losses) >= max_steps:
                    stop = True
                    break
            train_time = time.perf_counter() - t_ep
            t_val = time.perf_counter()
            model.eval()
            vsize = cfg.val_size_at(epoch)
            if vsize not in valsets:
                valsets[vsize] = load_valset(data, vsize, limit=cfg.val_limit)
            result = evaluate(torch_predictor(model, cfg.channels_last), valsets[vsize], batch=cfg.batch)
            scene_fp = scene_false_positives(torch_predictor(model, cfg.channels_last), cfg.scenes, vsize, cfg.batch) if cfg.scenes else None
            improved = result.miou > best
            if improved:
                best, best_epoch = result.miou, epoch
            miou_txt = f"{result.miou:.4f}"
            history.append({
                "epoch": epoch, "size": size, "val_size": vsize, "loss": run_loss, "lr": float(sched.get_last_lr()[0]),
                "val_miou": result.miou, "val_per_source": result.per_source, "val_scene_fp": scene_fp,
                "train_s": round(train_time, 1), "val_s": round(time.perf_counter() - t_val, 1),
                "images_per_s": round(n_img / max(train_time, 1e-9), 2),
            })
            state = {
                "version": CKPT_VERSION, "arch": cfg.arch, "model": model.state_dict(),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "epoch": epoch, "step": step,
                "best_miou": best, "best_epoch": best_epoch, "history": history, "config": cfg.to_dict(),
                "val": result.to_dict(),
            }
            save_checkpoint(out / "last.pt", state)
            if improved:
                save_checkpoint(out / "best.pt", state)
            (out / "history.json").write_text(json.dumps(history, indent=1))
            per_src = " ".join(f"{k}={v:.3f}" for k, v in result.per_source.items())
            log.info(
                f"epoch {epoch}/{cfg.epochs} @{size}: loss {run_loss:.4f}, val mIoU {result.miou:.4f} "
                f"(best {best:.4f} @ {best_epoch}) [{per_src}]"
                + (f" scenes: {scene_fp['pixels']:.2%} of pixels, {scene_fp['over_1pct']:.0%} over 1%" if scene_fp else "")
                + f" {n_img / max(train_time, 1e-9):.1f} img/s"
            )
            if stop:
                break
    finally:
        bar.close()
    return {
        "best_miou": best, "best_epoch": best_epoch, "epochs_done": history[-1]["epoch"] if history else 0,
        "losses": losses, "history": history,
    }


def scene_false_positives(predict, scenes: str, size: int, batch: int = 8) -> dict:
    """Share of skin pixels (probability >= 0.5) on the ``val`` scenes of ``scenes``, squashed to ``size``:
    :func:`~streamseg.metrics.scene_rates`."""
    from streamseg.metrics import scene_rates
    from streamseg.train.data import load_scenes
    from streamseg.train.validate import squash, to_batch

    images = [squash(s, size) for s in load_scenes(scenes, "val", max(size, 512))]
    shares = []
    for start in range(0, len(images), batch):
        probs = predict(to_batch(images[start:start + batch]))
        shares.extend(float((p >= 0.5).mean()) for p in probs)
    return scene_rates(shares)


def config_from_options(
    config: str | Path | None = None,
    *,
    arch: str | None = None,
    data: str | Path | None = None,
    size: int | None = None,
    epochs: int | None = None,
    batch: int | None = None,
    epoch_size: int | None = None,
    threads: int | None = None,
) -> TrainConfig:
    """The run's :class:`TrainConfig`: ``config`` (or the defaults) with every option that is not
    ``None`` on top, checked. A ``size`` without a config trains at that size alone (no progressive list)."""
    cfg = TrainConfig.load(config) if config else TrainConfig()
    overrides = {"arch": arch, "size": size, "epochs": epochs, "batch": batch, "epoch_size": epoch_size, "threads": threads}
    for k, v in overrides.items():
        if v is not None:
            setattr(cfg, k, v)
    if data is not None:
        cfg.data = str(data)
    if not cfg.data:
        raise ConfigError("data: give --data DIR (or 'data' in the config)")
    if size is not None and config is None:
        cfg.progressive = []
    cfg.check()
    return cfg


def train_run(
    cfg: TrainConfig,
    out: str | Path,
    resume: str | Path | None = None,
    init: str | Path | None = None,
    max_steps: int = 0,
    force: bool = False,
) -> dict:
    """``streamseg train``: refuse to start over a run in ``out`` (unless ``resume`` or ``force``),
    :func:`train` on ``cfg.data``, log the best epoch. Returns :func:`train`'s summary."""
    from streamseg.errors import OutputError

    out = Path(out)
    if resume is None and not force and (out / "last.pt").exists():
        raise OutputError(f"{out} already holds a run (last.pt); use --resume {out / 'last.pt'}, another --out, or --force")
    summary = train(cfg, cfg.data, out, resume=resume, max_steps=max_steps, init=init)
    log.info(f"best val mIoU {summary['best_miou']:.4f} at epoch {summary['best_epoch']}; checkpoints in {out}")
    return summary
