"""Training loop, checkpoints/resume, config and ONNX export on tiny generated data (no shared data, no GPU)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from streamseg.errors import ConfigError, InputError  # noqa: E402
from streamseg.train.augment import AugmentConfig  # noqa: E402
from streamseg.train.config import TrainConfig  # noqa: E402
from streamseg.train.export import export_model, spec_dict  # noqa: E402
from streamseg.train.models import Probability, build_model, count_parameters  # noqa: E402
from streamseg.train.trainer import load_checkpoint, lr_factor, seg_loss, train  # noqa: E402


def make_dataset(root: Path, n_train: int = 4, n_val: int = 2, size: int = 48) -> Path:
    """Skin-coloured discs on random backgrounds; mask = the disc. manifest.csv with train/val splits."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["id,source,split,width,height,skin_fraction,quality,license"]
    for i in range(n_train + n_val):
        img = rng.integers(0, 90, (size, size + 8, 3), dtype=np.uint8)
        mask = np.zeros((size, size + 8), np.uint8)
        c = (int(rng.integers(14, size - 6)), int(rng.integers(14, size - 14)))
        cv2.circle(mask, c, int(rng.integers(8, 14)), 255, -1)
        img[mask > 0] = (120, 150, 215)  # BGR skin tone
        sid = f"gen__{i}"
        cv2.imwrite(str(root / "images" / f"{sid}.png"), img)
        cv2.imwrite(str(root / "masks" / f"{sid}.png"), mask)
        split = "train" if i < n_train else "val"
        quality = "weak" if i == 0 else "good"
        rows.append(f"{sid},gen,{split},{size + 8},{size},{(mask > 0).mean():.4f},{quality},test")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root


def tiny_config(arch: str, tmp: Path, **kw) -> TrainConfig:
    no_aug = {f: 0.0 for f in AugmentConfig.__dataclass_fields__ if f.startswith("p_")}
    base = dict(
        arch=arch, size=32, epochs=2, batch=4, lr=1e-3, warmup_epochs=0.0, epoch_size=4, threads=1, workers=0,
        channels_last=False, cache_side=40, cache_dir=str(tmp / "cache"),
        augment=AugmentConfig(crop_scale=(1.0, 1.0), aspect=(1.0, 1.0), rotate_deg=0.0, **no_aug),
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("arch", ["dlmv", "u2netp"])
def test_two_steps_loss_falls(tmp_path: Path, arch: str) -> None:
    data = make_dataset(tmp_path / "data")
    cfg = tiny_config(arch, tmp_path)  # one batch per epoch, the same 4 images each time, no augmentation
    summary = train(cfg, data, tmp_path / "run")
    assert len(summary["losses"]) == 2
    assert summary["losses"][1] < summary["losses"][0]
    assert all(np.isfinite(summary["losses"]))
    hist = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2]
    assert 0.0 <= hist[-1]["val_miou"] <= 1.0 and set(hist[-1]["val_per_source"]) == {"gen"}


def test_checkpoint_resume_continues(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    cfg = tiny_config("dlmv", tmp_path, epochs=1)
    train(cfg, data, tmp_path / "run")
    ckpt = torch.load(tmp_path / "run" / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["step"] == 1 and ckpt["arch"] == "dlmv"
    assert ckpt["optimizer"]["state"], "optimizer moments must be saved"
    assert (tmp_path / "run" / "best.pt").is_file()
    cfg2 = tiny_config("dlmv", tmp_path, epochs=2, workers=1)  # a forked loader after validation ran in the parent
    summary = train(cfg2, data, tmp_path / "run", resume=tmp_path / "run" / "last.pt")
    assert [h["epoch"] for h in summary["history"]] == [1, 2]  # history carried over, one new epoch
    assert len(summary["losses"]) == 1
    ckpt2 = load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt2["epoch"] == 2 and ckpt2["step"] == 2
    assert ckpt2["scheduler"]["last_epoch"] == 2
    # weights moved on from the resumed ones
    k = "backbone.features.0.0.weight"
    assert not torch.equal(ckpt["model"][k], ckpt2["model"][k])


def test_resume_rejects_other_arch_and_bad_files(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    train(tiny_config("dlmv", tmp_path, epochs=1), data, tmp_path / "run")
    with pytest.raises(ConfigError):
        train(tiny_config("u2netp", tmp_path, epochs=2), data, tmp_path / "run2", resume=tmp_path / "run" / "last.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError):
        load_checkpoint(bad)
    with pytest.raises(InputError):
        load_checkpoint(tmp_path / "missing.pt")


def test_loss_is_zero_for_perfect_and_weights_apply() -> None:
    t = torch.zeros(2, 1, 8, 8)
    t[0, :, 2:6, 2:6] = 1
    perfect = (t * 2 - 1) * 30  # confident, correct logits
    assert float(seg_loss(perfect, t, torch.ones(2))) < 1e-3
    wrong = -perfect
    assert float(seg_loss(wrong, t, torch.ones(2))) > 1.0
    # a zero weight removes that image from the loss
    mixed = torch.stack([perfect[0], wrong[1]])
    assert float(seg_loss(mixed, t, torch.tensor([1.0, 0.0]))) < 1e-3


def test_lr_schedule_warms_up_then_decays() -> None:
    f = [lr_factor(s, 100, 10, 0.01) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[10:], f[11:]))
    assert f[-1] == pytest.approx(0.01, abs=0.01)


def test_config_from_toml_and_errors(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text('arch = "u2netp"\nsize = 64\nepochs = 3\nprogressive = [[32, 2]]\n[augment]\np_hue = 0.5\n')
    cfg = TrainConfig.load(p)
    assert (cfg.arch, cfg.size, cfg.augment.p_hue) == ("u2netp", 64, 0.5)
    assert [cfg.size_at(e) for e in (1, 2, 3)] == [32, 32, 64]
    p.write_text('arch = "resnet"\n')
    with pytest.raises(ConfigError, match="arch"):
        TrainConfig.load(p)
    p.write_text("batchsize = 3\n")
    with pytest.raises(ConfigError, match="batchsize"):
        TrainConfig.load(p)
    p.write_text("size = 100\n")
    with pytest.raises(ConfigError, match="size"):
        TrainConfig.load(p)
    with pytest.raises(ConfigError, match="not found"):
        TrainConfig.load(tmp_path / "nope.toml")


@pytest.mark.parametrize("arch", ["dlmv", "u2netp"])
def test_export_matches_pytorch(tmp_path: Path, arch: str) -> None:
    import onnxruntime as ort

    torch.manual_seed(0)
    model = build_model(arch).eval()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (50, 70, 3), dtype=np.uint8) for _ in range(3)]
    rep = export_model(model, tmp_path / f"{arch}.onnx", 64, frames, name=arch, description="t", measure_latency=False)
    assert rep.max_abs_diff < 1e-4
    spec = json.loads(rep.spec_path.read_text())
    assert spec == spec_dict(arch, "t", f"{arch}.onnx", 64, None)
    sess = ort.InferenceSession(str(rep.onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["input"] and [o.name for o in sess.get_outputs()] == ["output"]
    x = rng.random((2, 3, 64, 64), dtype=np.float32)  # dynamic batch
    y = sess.run(None, {"input": x})[0]
    assert y.shape == (2, 1, 64, 64) and y.min() >= 0.0 and y.max() <= 1.0
    with torch.no_grad():
        want = Probability(model)(torch.from_numpy(x)).numpy()
    assert np.abs(y - want).max() < 1e-4


def test_architectures_have_the_published_sizes() -> None:
    assert abs(count_parameters(build_model("dlmv")) - 11.0e6) < 0.1e6
    assert abs(count_parameters(build_model("u2netp")) - 1.13e6) < 0.02e6
    out = build_model("u2netp").eval()(torch.rand(1, 3, 40, 56))
    assert len(out) == 7 and all(o.shape == (1, 1, 40, 56) for o in out)
    with pytest.raises(ValueError):
        build_model("nope")


def test_resume_from_weights_only_fp16_checkpoint(tmp_path: Path) -> None:
    """The checkpoints kept in git (checkpoints/*.pt) hold fp16 weights only: training starts
    from those weights with a fresh optimizer and schedule."""
    data = make_dataset(tmp_path / "data")
    train(tiny_config("u2netp", tmp_path, epochs=1), data, tmp_path / "run")
    full = load_checkpoint(tmp_path / "run" / "last.pt")
    slim = {"arch": "u2netp", "model": {k: v.half() if v.is_floating_point() else v for k, v in full["model"].items()}, "epoch": 1}
    torch.save(slim, tmp_path / "slim.pt")
    summary = train(tiny_config("u2netp", tmp_path, epochs=1), data, tmp_path / "run2", resume=tmp_path / "slim.pt")
    assert summary["epochs_done"] == 1 and len(summary["losses"]) == 1  # a new schedule, not "already done"
    after = load_checkpoint(tmp_path / "run2" / "last.pt")
    k = next(k for k, v in full["model"].items() if v.is_floating_point() and v.ndim == 4)
    start = full["model"][k].half().float()
    assert not torch.equal(after["model"][k], start)  # trained on from the loaded weights ...
    assert (after["model"][k] - start).abs().max() < (after["model"][k]).abs().max()  # ... not from scratch


def test_init_starts_a_new_stage_from_a_full_checkpoint(tmp_path: Path) -> None:
    """--init takes only the weights: a finished 2-epoch run seeds a new 1-epoch run (with --resume
    that run would be 'already done'), and the new run's schedule starts at step 0."""
    data = make_dataset(tmp_path / "data")
    train(tiny_config("dlmv", tmp_path, epochs=2), data, tmp_path / "run")
    first = load_checkpoint(tmp_path / "run" / "last.pt")
    summary = train(tiny_config("dlmv", tmp_path, epochs=1), data, tmp_path / "s2", init=tmp_path / "run" / "last.pt")
    assert summary["epochs_done"] == 1 and [h["epoch"] for h in summary["history"]] == [1]
    second = load_checkpoint(tmp_path / "s2" / "last.pt")
    assert second["step"] == 1 and second["scheduler"]["last_epoch"] == 1
    k = "backbone.features.0.0.weight"
    moved = (second["model"][k] - first["model"][k]).abs().max()
    assert 0 < moved < first["model"][k].abs().max()  # trained on from the stage-1 weights, not from scratch
    with pytest.raises(ConfigError):
        train(tiny_config("dlmv", tmp_path, epochs=1), data, tmp_path / "s3", init=tmp_path / "run" / "last.pt",
              resume=tmp_path / "run" / "last.pt")


def test_card_compares_with_the_classical_methods_per_source() -> None:
    from streamseg.train.card import comparison_lines

    val = {"miou": 0.8, "n": 10, "per_source": {"a": 0.9, "b": 0.5}}
    report = {
        "command": "streamseg eval DATA",
        "methods": {
            "ellipse": {"kind": "classical", "miou": 0.6, "per_source": {"a": {"miou": 0.6}, "b": {"miou": 0.52}}},
            "icm": {"kind": "classical", "miou": 0.55, "per_source": {"a": {"miou": 0.7}}},
            "mediapipe": {"kind": "model", "miou": 0.3, "per_source": {"a": {"miou": 0.3}, "b": {"miou": 0.3}}},
        },
    }
    text = "\n".join(comparison_lines("dlmv", val, report))
    assert "| **dlmv** | **0.800** | **0.900** | **0.500** |" in text
    assert "| `ellipse` | 0.600 | 0.600 | 0.520 |" in text and "| `icm` | 0.550 | 0.700 | - |" in text
    assert "mediapipe" not in text  # only classical methods are compared
    assert "a +0.200, b -0.020" in text  # lead over the best classical method of each source
    assert "Not ahead by 0.05 or more on: b (-0.020 vs `ellipse`)." in text
    # a source no classical method was scored on (or a report without classical methods) has no lead
    text = "\n".join(comparison_lines("dlmv", {**val, "per_source": {"a": 0.9, "c": 0.4}}, report))
    assert "a +0.200." in text and "c " not in text.split("Lead over")[1]
    assert "No classical method in `streamseg eval` was scored" in "\n".join(comparison_lines("dlmv", val, {"methods": {}}))


def test_distillation_adds_the_teacher_term_and_the_loss_falls(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    teacher_run = train(tiny_config("dlmv", tmp_path, epochs=3), data, tmp_path / "teacher")
    assert teacher_run["epochs_done"] == 3
    plain = train(tiny_config("dlmv", tmp_path, epochs=1, seed=4), data, tmp_path / "plain")
    cfg = tiny_config("dlmv", tmp_path, epochs=4, seed=4, teacher=str(tmp_path / "teacher" / "best.pt"), distill_weight=1.0)
    distilled = train(cfg, data, tmp_path / "student")
    # same seed, same first batch: the first loss differs only by the (positive) teacher term
    assert distilled["losses"][0] > plain["losses"][0] + 1e-3
    assert distilled["losses"][-1] < distilled["losses"][0]


def test_distillation_config_needs_a_teacher(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        TrainConfig.from_dict({"arch": "dlmv", "distill_weight": 0.5})
    cfg = tiny_config("dlmv", tmp_path, teacher=str(tmp_path / "missing.pt"), distill_weight=1.0)
    with pytest.raises(InputError):
        train(cfg, make_dataset(tmp_path / "data"), tmp_path / "run")


def test_teacher_flip_averages_the_mirror_view() -> None:
    from streamseg.train.distill import Teacher

    ramp = torch.linspace(0.0, 1.0, 8).reshape(1, 1, 1, 8)

    def fn(x: torch.Tensor) -> torch.Tensor:  # not mirror-symmetric: the input's red plus a ramp
        return (x[:, :1] + ramp) / 2

    x = torch.rand(2, 3, 8, 8)
    plain, flipped = Teacher(fn, 8)(x), Teacher(fn, 8, flip=True)(x)
    want = 0.5 * (fn(x) + fn(x.flip(3)).flip(3))
    torch.testing.assert_close(flipped, want)
    assert (plain - flipped).abs().max() > 0.1
    assert TrainConfig.from_dict({"arch": "dlmv", "teacher": "t.onnx", "distill_weight": 0.5, "teacher_flip": True}).teacher_flip


def test_sampling_pool_repeats_the_images_without_skin() -> None:
    from streamseg.train.data import sampling_pool

    masks = np.zeros((5, 4, 4), np.uint8)
    masks[[0, 2, 3], 1, 1] = 255  # rows 1 and 4 have no skin
    assert sampling_pool(masks, 1).tolist() == [0, 1, 2, 3, 4]
    pool = sampling_pool(masks, 4)
    assert sorted(pool.tolist()) == [0, 1, 1, 1, 1, 2, 3, 4, 4, 4, 4]
    for bad in (0, 1.5, True):
        with pytest.raises(ConfigError, match="empty_repeat"):
            TrainConfig.from_dict({"arch": "dlmv", "empty_repeat": bad})
