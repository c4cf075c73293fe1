"""Training configuration: a TOML file (``configs/<model>.toml``) with command-line overrides.

Example:
    >>> cfg = TrainConfig.from_dict({"arch": "dlmv", "size": 256, "epochs": 10, "progressive": [[160, 6]]})
    >>> [cfg.size_at(e) for e in (1, 6, 7, 10)]
    [160, 160, 256, 256]
"""

from __future__ import annotations

import dataclasses
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from streamseg.errors import ConfigError
from streamseg.train.augment import AugmentConfig


@dataclass
class TrainConfig:
    """Every setting of a training run (see ``docs/training.md`` for what each one does)."""

    arch: str = "dlmv"
    data: str = ""
    size: int = 256  # final (target) training size
    epochs: int = 30
    batch: int = 8
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_epochs: float = 1.0
    min_lr_ratio: float = 0.01
    epoch_size: int = 0  # samples drawn per epoch (0 = the whole train split)
    progressive: list[list[int]] = field(default_factory=list)  # [[size, epochs], ...] before `size`
    val_size: int = 0  # 0 = each epoch's training size
    val_limit: int = 0  # 0 = the whole val split
    weak_weight: float = 0.5  # loss weight of quality=weak samples
    empty_repeat: int = 1  # train images without any skin (garments alone) are drawn this many times as often
    bce_weight: float = 1.0
    iou_weight: float = 1.0
    side_weight: float = 1.0  # U²-NetP: weight of each side output's loss (fused output = 1)
    threads: int = 1  # more OpenMP threads than free cores makes every step many times slower
    workers: int = 1
    channels_last: bool = True
    compile: bool = False
    cache_side: int = 0  # 0 = 1.25 x size, rounded to 32
    cache_dir: str = "runs/cache"
    seed: int = 0
    teacher: str = ""  # distillation: a checkpoint or ONNX model whose soft masks are a second target
    distill_weight: float = 0.0  # weight of the soft-target loss (0 = no distillation)
    scenes: str = ""  # folder of photos with nobody in them (manifest.csv + images/): hard negatives and backgrounds
    teacher_flip: bool = False  # the teacher's soft mask is the mean over the view and its mirror image (as --tta flip)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        """Build from a dict (a parsed TOML file); unknown keys or bad values raise :class:`ConfigError`."""
        names = {f.name: f for f in fields(cls)}
        kw = {}
        for k, v in d.items():
            if k not in names:
                raise ConfigError(f"unknown config key {k!r}; known: {', '.join(sorted(names))}")
            if k == "augment":
                try:
                    kw[k] = AugmentConfig.from_dict(v)
                except (KeyError, TypeError) as exc:
                    raise ConfigError(f"unknown or invalid key in [augment]: {exc}") from None
            else:
                kw[k] = v
        cfg = cls(**kw)
        cfg.check()
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """Read a TOML config file."""
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML: {exc}") from None
        return cls.from_dict(data)

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid key."""
        from streamseg.train.models import ARCHS

        if self.arch not in ARCHS:
            raise ConfigError(f"arch: unknown architecture {self.arch!r}; known: {', '.join(ARCHS)}")
        for key in ("size", "epochs", "batch", "threads"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise ConfigError(f"{key}: must be a positive integer, got {getattr(self, key)!r}")
        if self.size % 32:
            raise ConfigError(f"size: must be a multiple of 32, got {self.size}")
        for i, st in enumerate(self.progressive):
            if not (isinstance(st, list) and len(st) == 2 and all(isinstance(v, int) and v > 0 for v in st)):
                raise ConfigError(f"progressive[{i}]: expected [size, epochs] with positive integers, got {st!r}")
            if st[0] % 32:
                raise ConfigError(f"progressive[{i}]: size must be a multiple of 32, got {st[0]}")
        if self.lr <= 0 or self.weight_decay < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("lr/weight_decay/min_lr_ratio: lr > 0, weight_decay >= 0, 0 <= min_lr_ratio <= 1")
        if self.distill_weight < 0 or (self.distill_weight > 0 and not self.teacher):
            raise ConfigError("distill_weight: must be >= 0, and > 0 needs a teacher (checkpoint or .onnx)")
        if isinstance(self.empty_repeat, bool) or not isinstance(self.empty_repeat, int) or self.empty_repeat < 1:
            raise ConfigError(f"empty_repeat: must be an integer >= 1, got {self.empty_repeat!r}")
        if self.batch < 2:
            raise ConfigError("batch: must be at least 2 (BatchNorm)")

    def size_at(self, epoch: int) -> int:
        """Training size of 1-based ``epoch`` (progressive stages first, then ``size``)."""
        end = 0
        for s, n in self.progressive:
            end += n
            if epoch <= end:
                return s
        return self.size

    def val_size_at(self, epoch: int) -> int:
        """Validation size of 1-based ``epoch``: ``val_size``, or the epoch's training size when 0."""
        return self.val_size or self.size_at(epoch)

    @property
    def effective_cache_side(self) -> int:
        return self.cache_side or int(round(self.size * 1.25 / 32) * 32)

    def to_dict(self) -> dict:
        """Plain dict (lists, numbers, strings): TOML/JSON-friendly and safe for ``torch.load(weights_only=True)``."""
        d = dataclasses.asdict(self)
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in d["augment"].items()}
        d["progressive"] = [list(p) for p in self.progressive]
        return d
