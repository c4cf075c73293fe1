"""The trainable architectures: DLMV (DeepLabV3 + MobileNetV3-Large) and U²-NetP, in plain PyTorch.

Every model takes an RGB float32 batch ``(N, 3, H, W)`` in ``[0, 1]`` (normalisation happens
inside, so the exported graph needs none) and returns skin *logits*:

* ``DLMV``: a tensor ``(N, 1, H, W)``.
* ``U2NetP``: a list of 7 tensors ``(N, 1, H, W)``: the fused output first, then the six side
  outputs (deep supervision); inference uses ``[0]``.

:func:`build_model` creates one by name; :class:`Probability` wraps a model so it returns the
fused probability ``(N, 1, H, W)`` in ``[0, 1]`` (what ``streamseg export`` writes to ONNX).

Example:
    >>> import torch
    >>> m = build_model("dlmv").eval()
    >>> Probability(m)(torch.rand(1, 3, 64, 64)).shape
    torch.Size([1, 1, 64, 64])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: "selfie" and "pose" start from MediaPipe's bundled person-segmentation weights (tflite_import)
ARCHS = ("dlmv", "u2netp", "selfie", "pose")

#: ImageNet statistics; applied inside the graph (inputs are RGB in [0, 1])
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, with constant buffers (exported into the ONNX graph)."""

    def __init__(self, mean: tuple[float, ...] = _MEAN, std: tuple[float, ...] = _STD) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


# ----------------------------------------------------------------------------------------------
# DLMV: MobileNetV3-Large (dilated last stage, output stride 16) + DeepLabV3 head
# ----------------------------------------------------------------------------------------------


def _divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) + BatchNorm + optional activation, 'same' padding for odd kernels."""

    def __init__(
        self, cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, dilation: int = 1,
        act: type[nn.Module] | None = nn.ReLU,
    ) -> None:
        pad = (k - 1) // 2 * dilation
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        squeeze = _divisible(channels // 4)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.adaptive_avg_pool2d(x, 1)
        s = F.hardsigmoid(self.fc2(F.relu(self.fc1(s), inplace=True)), inplace=True)
        return x * s


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, k: int, cexp: int, cout: int, se: bool, hs: bool, stride: int, dilation: int) -> None:
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        self.use_res = stride == 1 and cin == cout
        layers: list[nn.Module] = []
        if cexp != cin:
            layers.append(ConvBNAct(cin, cexp, 1, act=act))
        stride = 1 if dilation > 1 else stride
        layers.append(ConvBNAct(cexp, cexp, k, stride, groups=cexp, dilation=dilation, act=act))
        if se:
            layers.append(SqueezeExcite(cexp))
        layers.append(ConvBNAct(cexp, cout, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.use_res else y


#: (in, kernel, expanded, out, SE, hard-swish, stride, dilation) as in MobileNetV3-Large
_MBV3_LARGE = [
    (16, 3, 16, 16, False, False, 1, 1),
    (16, 3, 64, 24, False, False, 2, 1),
    (24, 3, 72, 24, False, False, 1, 1),
    (24, 5, 72, 40, True, False, 2, 1),
    (40, 5, 120, 40, True, False, 1, 1),
    (40, 5, 120, 40, True, False, 1, 1),
    (40, 3, 240, 80, False, True, 2, 1),
    (80, 3, 200, 80, False, True, 1, 1),
    (80, 3, 184, 80, False, True, 1, 1),
    (80, 3, 184, 80, False, True, 1, 1),
    (80, 3, 480, 112, True, True, 1, 1),
    (112, 3, 672, 112, True, True, 1, 1),
    (112, 5, 672, 160, True, True, 2, 2),  # dilated last stage: output stride 16
    (160, 5, 960, 160, True, True, 1, 2),
    (160, 5, 960, 160, True, True, 1, 2),
]


class MobileNetV3Large(nn.Module):
    """MobileNetV3-Large feature extractor: ``(N, 3, H, W)`` -> ``(N, 960, H/16, W/16)``."""

    out_channels = 960

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBNAct(3, 16, 3, 2, act=nn.Hardswish)]
        layers += [InvertedResidual(*cfg) for cfg in _MBV3_LARGE]
        layers.append(ConvBNAct(160, 960, 1, act=nn.Hardswish))
        self.features = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class ASPPPooling(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = ConvBNAct(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        # BatchNorm on a 1x1 map is fine in training: batch >= 2 gives it N values per channel
        y = self.conv(F.adaptive_avg_pool2d(x, 1))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1, three atrous 3x3 and image pooling, projected to ``cout``."""

    def __init__(self, cin: int, rates: tuple[int, ...] = (12, 24, 36), cout: int = 256) -> None:
        super().__init__()
        branches: list[nn.Module] = [ConvBNAct(cin, cout, 1)]
        branches += [ConvBNAct(cin, cout, 3, dilation=r) for r in rates]
        branches.append(ASPPPooling(cin, cout))
        self.branches = nn.ModuleList(branches)
        self.project = nn.Sequential(ConvBNAct(cout * len(branches), cout, 1), nn.Dropout(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([b(x) for b in self.branches], dim=1))


class DLMV(nn.Module):
    """DeepLabV3 (ASPP 256, image pooling) on MobileNetV3-Large, one output channel (logits)."""

    def __init__(self, num_classes: int = 1) -> None:
        super().__init__()
        self.normalize = Normalize()
        self.backbone = MobileNetV3Large()
        self.head = nn.Sequential(
            ASPP(MobileNetV3Large.out_channels),
            ConvBNAct(256, 256, 3),
            nn.Conv2d(256, num_classes, 1),
        )
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        y = self.head(self.backbone(self.normalize(x)))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


# ----------------------------------------------------------------------------------------------
# U²-NetP (Qin et al. 2020, the 1.1M-parameter variant)
# ----------------------------------------------------------------------------------------------


class REBNConv(nn.Module):
    """3x3 conv (dilation ``d``) + BatchNorm + ReLU."""

    def __init__(self, cin: int, cout: int, d: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=d, dilation=d)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


def _up_like(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=ref.shape[-2:], mode="bilinear", align_corners=False)


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 2, 2, ceil_mode=True)


class RSU(nn.Module):
    """Residual U-block RSU-L (``height`` = L: 7, 6, 5 or 4) with pooling between levels."""

    def __init__(self, height: int, cin: int, cmid: int, cout: int) -> None:
        super().__init__()
        self.conv_in = REBNConv(cin, cout)
        self.enc = nn.ModuleList([REBNConv(cout, cmid)] + [REBNConv(cmid, cmid) for _ in range(height - 2)])
        self.bottom = REBNConv(cmid, cmid, d=2)
        self.dec = nn.ModuleList([REBNConv(cmid * 2, cmid) for _ in range(height - 2)] + [REBNConv(cmid * 2, cout)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xin = self.conv_in(x)
        feats = []
        h = xin
        for i, conv in enumerate(self.enc):
            if i > 0:
                h = _pool(h)
            h = conv(h)
            feats.append(h)
        h = self.bottom(h)
        for i, conv in enumerate(self.dec):
            skip = feats[-1 - i]
            if i > 0:
                h = _up_like(h, skip)
            h = conv(torch.cat([h, skip], dim=1))
        return h + xin


class RSU4F(nn.Module):
    """RSU-4F: the dilated (no pooling) residual U-block used at the lowest resolutions."""

    def __init__(self, cin: int, cmid: int, cout: int) -> None:
        super().__init__()
        self.conv_in = REBNConv(cin, cout)
        self.enc = nn.ModuleList([REBNConv(cout, cmid, 1), REBNConv(cmid, cmid, 2), REBNConv(cmid, cmid, 4)])
        self.bottom = REBNConv(cmid, cmid, 8)
        self.dec = nn.ModuleList([REBNConv(cmid * 2, cmid, 4), REBNConv(cmid * 2, cmid, 2), REBNConv(cmid * 2, cout, 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xin = self.conv_in(x)
        feats = []
        h = xin
        for conv in self.enc:
            h = conv(h)
            feats.append(h)
        h = self.bottom(h)
        for i, conv in enumerate(self.dec):
            h = conv(torch.cat([h, feats[-1 - i]], dim=1))
        return h + xin


class U2NetP(nn.Module):
    """U²-NetP: 6 encoder stages (RSU-7/6/5/4/4F/4F, 16 mid / 64 out), 5 decoder stages,
    six side outputs fused by a 1x1 conv. Returns ``[fused, side1..side6]`` logits."""

    def __init__(self, mid: int = 16, out: int = 64) -> None:
        super().__init__()
        self.normalize = Normalize()
        self.stages = nn.ModuleList([
            RSU(7, 3, mid, out), RSU(6, out, mid, out), RSU(5, out, mid, out), RSU(4, out, mid, out),
            RSU4F(out, mid, out), RSU4F(out, mid, out),
        ])
        self.dec = nn.ModuleList([
            RSU4F(out * 2, mid, out), RSU(4, out * 2, mid, out), RSU(5, out * 2, mid, out),
            RSU(6, out * 2, mid, out), RSU(7, out * 2, mid, out),
        ])
        self.side = nn.ModuleList([nn.Conv2d(out, 1, 3, padding=1) for _ in range(6)])
        self.fuse = nn.Conv2d(6, 1, 1)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.normalize(x)
        enc = []
        for i, stage in enumerate(self.stages):
            if i > 0:
                h = _pool(h)
            h = stage(h)
            enc.append(h)
        dec = [h]  # stage 6 output
        for i, stage in enumerate(self.dec):
            skip = enc[-2 - i]
            h = stage(torch.cat([_up_like(h, skip), skip], dim=1))
            dec.append(h)
        # dec = [d6, d5, d4, d3, d2, d1]; side outputs at input resolution, d1 first
        sides = [_up_like(self.side[i](d), x) for i, d in enumerate(reversed(dec))]
        fused = self.fuse(torch.cat(sides, dim=1))
        return [fused] + sides


# ----------------------------------------------------------------------------------------------


def _init_weights(model: nn.Module) -> None:
    """He init for convs, unit BN; from-scratch training has no pretrained weights to lean on."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    # zero-init the last BN of each residual branch so blocks start as identity (helps from scratch)
    for m in model.modules():
        if isinstance(m, InvertedResidual) and m.use_res:
            last = m.block[-1]
            nn.init.zeros_(last[1].weight)
    # final classifiers: small weights, bias at the prior skin fraction (~0.3)
    prior_bias = math.log(0.3 / 0.7)
    for m in model.modules():
        if isinstance(m, DLMV):
            nn.init.normal_(m.head[-1].weight, std=0.01)
            nn.init.constant_(m.head[-1].bias, prior_bias)
        elif isinstance(m, U2NetP):
            for s in m.side:
                nn.init.normal_(s.weight, std=0.01)
                nn.init.constant_(s.bias, prior_bias)
            nn.init.constant_(m.fuse.weight, 1.0 / 6)
            nn.init.zeros_(m.fuse.bias)


def build_model(arch: str) -> nn.Module:
    """A new model: ``"dlmv"`` or ``"u2netp"`` freshly initialised; ``"selfie"`` or ``"pose"``
    initialised from MediaPipe's bundled person-segmentation weights (read from the installed
    mediapipe wheel, see :mod:`streamseg.train.tflite_import`), returning logits ``(N, 1, H, W)``.

    Raises:
        ValueError: unknown architecture name.
    """
    if arch == "dlmv":
        return DLMV()
    if arch == "u2netp":
        return U2NetP()
    if arch in ("selfie", "pose"):
        from streamseg.train.tflite_import import SegmentationLogit, TfliteGraph

        # pose logits reach +-1000: a temperature brings them to where the sigmoid has a slope
        return SegmentationLogit(TfliteGraph.bundled(arch), temperature=25.0 if arch == "pose" else 1.0)
    raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHS)}")


def main_output(out: torch.Tensor | list[torch.Tensor]) -> torch.Tensor:
    """The logits ``(N, 1, H, W)`` a model's forward returned (fused output for U²-NetP)."""
    return out[0] if isinstance(out, (list, tuple)) else out


class Probability(nn.Module):
    """Wraps a model: RGB ``(N, 3, H, W)`` in [0, 1] -> skin probability ``(N, 1, H, W)`` in [0, 1]."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(main_output(self.model(x)))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
