"""int8 (static QDQ) trial of shipped models: val mIoU (the trainer's evaluate, 791 images) and ONNX Runtime latency (1 thread, 3 x 20 runs), float against int8. Issue 19 item 3: keep one only within 0.5 point and faster.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/int8_trial.py selfie-skin-256:256 dlmv-256:256   # -> runs/int8_try.json
"""
import sys, json, numpy as np
from pathlib import Path
from streamseg.dataset import SkinDataset
from streamseg.train.export import check_batch, latency_ms
from streamseg.train.quantize import quantize_qdq
from streamseg.train.validate import evaluate, onnx_predictor, load_valset
data = Path("../shared/data/skin")
ds = SkinDataset(data)
train = ds.samples(split="train")
out = {}
for name, size in [(a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[1:]]:
    src = Path(f"streamseg/data/models/{name}.onnx")
    vs = load_valset(data, size)
    pick = [train[int(i)] for i in np.linspace(0, len(train) - 1, 64).round().astype(int)]
    calib = [check_batch([ds.load_image(s)], size) for s in pick]
    q = Path(f"runs/{name}-int8.onnx")
    quantize_qdq(src, q, calib)
    f_miou = evaluate(onnx_predictor(src, threads=1), vs, batch=4).miou
    q_miou = evaluate(onnx_predictor(q, threads=1), vs, batch=4).miou
    f_ms = [latency_ms(src, size, threads=1) for _ in range(3)]
    q_ms = [latency_ms(q, size, threads=1) for _ in range(3)]
    out[name] = dict(float_miou=f_miou, int8_miou=q_miou, float_ms=f_ms, int8_ms=q_ms)
    print(name, json.dumps(out[name]), flush=True)
json.dump(out, open("runs/int8_try.json", "w"), indent=1)
