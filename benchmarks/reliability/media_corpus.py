"""Run `streamseg video` on every file of a media corpus and check what came out.

The corpus folder holds the videos and a ``MANIFEST.tsv`` with the columns ``file``,
``decodable_video_frames`` (what PyAV's ``container.decode(video=0)`` yields) and ``state``
(``healthy`` or ``broken``); /work/shared/media/corpus is one. Each file is run as the CLI runs
it (``python -m streamseg video FILE -o OUT/<file>.mp4 -m METHOD --overwrite``), then its output
is decoded and compared with the input:

- **frames**: frames written (of the final file, else of the ``.partial`` one) against the manifest;
- **timing**: the largest difference, in ms, between an output frame's time and its input frame's
  time, both counted from the first frame (the input's times in increasing order: see
  :func:`video_times`);
- **audio**: where the sound lies relative to the first video frame in the output, against the same
  in the input, in ms: the first decoded audio sample's time plus the shift that lines up the
  output's sound with the input's (cross-correlation of the first seconds, mono at 8 kHz), so an
  encoder's priming frame before the sound does not count; by timestamps alone (``ts``) for a
  track too quiet or short to line up, where a re-encoded track's priming frame (AAC: 1024
  samples of silence before the sound) shows as about -23 ms. In brackets: one audio frame of the input's or the output's codec, whichever is
  longer (what "within one audio frame" means);
- **exit** code and **message** (the ``error:`` line, else the warnings, else ``-``).

A row passes when a healthy file exits 0 with every frame, timing within 1 ms and the audio
offset within one audio frame, and a broken one exits non-zero with one ``error:`` line and no
traceback. The script exits 1 when a row fails.

Usage:
    .venv/bin/python -m benchmarks.reliability.media_corpus /work/shared/media/corpus /tmp/corpus_out ellipse
    .venv/bin/python -m benchmarks.reliability.media_corpus /work/shared/media/corpus /tmp/corpus_out dlmv --only mp4_sample
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
from benchmarks.timing import now


def video_times(path: Path) -> list[float]:
    """Seconds of every decoded frame of the first video stream, in increasing order (a
    container without presentation timestamps, AVI, hands the decoder's frames its packets'
    decode-order times: sorted, they are the frames' times)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return sorted(float(f.pts * v.time_base) for f in c.decode(v) if f.pts is not None)


#: the audio is compared at this rate (Hz), mono
RATE = 8000


def audio_track(path: Path) -> tuple[float | None, np.ndarray, float | None]:
    """(seconds of the first decoded sample, the first seconds of the track as mono float at
    :data:`RATE`, seconds of one audio frame of the file's codec); ``(None, [], None)`` without audio."""
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None, np.zeros(0, np.float32), None
        a = c.streams.audio[0]
        res = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        start, frame_s, chunks = None, None, []
        try:
            for f in c.decode(a):
                if f.pts is None or not f.samples:
                    continue
                if start is None:
                    start = float(f.pts * f.time_base)
                frame_s = max(frame_s or 0.0, f.samples / f.sample_rate)
                # each piece where its timestamp puts it: a gap in the track stays a gap
                chunks += [(float(r.pts * r.time_base) - start, r.to_ndarray()[0]) for r in res.resample(f)]
                if chunks and chunks[-1][0] > 4:
                    break
        except av.error.FFmpegError:
            pass
    track = np.zeros(int(RATE * (chunks[-1][0] + 1)) if chunks else 0, np.float32)
    for t, x in chunks:
        i = max(0, round(t * RATE))
        track[i : i + len(x)] = x[: len(track) - i]
    return start, track, frame_s


def content_shift(x_in: np.ndarray, x_out: np.ndarray, window: float = 0.5) -> float | None:
    """Seconds by which the output's sound comes later than the input's, each counted from its
    first sample, by cross-correlation; ``None`` when no shift matches well (normalised peak
    under 0.2, or less than twice any other: silence, too short)."""
    n = min(len(x_in), len(x_out))
    if n < RATE // 20:
        return None
    a, b = x_in[:n].astype(np.float64), x_out[:n].astype(np.float64)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    w = min(int(window * RATE), n - 1)
    lags = np.r_[0:w, -w:0]
    best = lags[int(np.argmax(corr[lags]))]
    # normalised by the energies of the overlapping parts
    if best >= 0:
        norm = np.sqrt(np.dot(b[best:], b[best:]) * np.dot(a[: n - best], a[: n - best]))
    else:
        norm = np.sqrt(np.dot(b[: n + best], b[: n + best]) * np.dot(a[-best:], a[-best:]))
    # the best shift must match well and stand out: twice the best one 5 ms or more away from it
    others = np.abs(corr[lags][np.abs(lags - best) > RATE // 200])
    if norm <= 0 or corr[best] / norm < 0.2 or (others.size and corr[best] < 2 * others.max()):
        return None
    return best / RATE


def message(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if any("Traceback" in ln for ln in lines):
        return "TRACEBACK: " + lines[-1]
    errors = [ln for ln in lines if ln.startswith("error:")]
    if errors:
        return " / ".join(errors)
    warns = [ln for ln in lines if ln.startswith("warning:")]
    return " / ".join(warns) or "-"


def run_one(src: Path, out_dir: Path, method: str, timeout: float) -> dict:
    out = out_dir / f"{src.name}.mp4"
    partial = out_dir / f"{src.name}.partial.mp4"
    for p in (out, partial):
        p.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "streamseg", "video", str(src), "-o", str(out), "-m", method, "--overwrite"]
    t0 = now()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        code, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired:
        code, err = -1, f"error: timed out after {timeout:.0f} s"
    row: dict = {"exit": code, "message": message(err), "seconds": now() - t0, "written": None}
    row["n_errors"] = sum(1 for ln in err.splitlines() if ln.strip().startswith("error:"))
    row["traceback"] = "Traceback" in err
    written = out if out.exists() else partial if partial.exists() else None
    row["timing_ms"] = row["audio_ms"] = row["audio_frame_ms"] = None
    row["audio_by"] = ""
    if written is None:
        return row
    got = video_times(written)
    row["written"] = len(got)
    try:
        want = video_times(src)
    except av.error.FFmpegError:
        want = []
    if got and want and len(got) == len(want):
        row["timing_ms"] = 1000 * max(abs((g - got[0]) - (w - want[0])) for g, w in zip(got, want))
    a_in, x_in, frame_in = audio_track(src)
    a_out, x_out, frame_out = audio_track(written)
    v_in, v_out = (want[0] if want else None), (got[0] if got else None)
    if a_in is not None and a_out is not None and v_in is not None and v_out is not None:
        # where the sound is (its first sample plus where the same sound lies in it), relative to
        # the first video frame; an encoder's priming frame before the sound does not count
        shift = content_shift(x_in, x_out)
        row["audio_by"] = "sound" if shift is not None else "timestamps"
        row["audio_ms"] = 1000 * ((a_out + (shift or 0.0) - v_out) - (a_in - v_in))
        row["audio_frame_ms"] = 1000 * max(frame_in or 0.0, frame_out or 0.0)
    elif a_in is not None:
        row["audio_ms"] = float("nan")  # the input has audio, the output has none
    return row


def verdict(row: dict, expected: int | None, healthy: bool) -> bool:
    if not healthy:
        return row["exit"] not in (0, -1) and row["n_errors"] == 1 and not row["traceback"]
    if row["exit"] != 0 or row["written"] != expected:
        return False
    if row["timing_ms"] is None or row["timing_ms"] > 1.0:
        return False
    if row["audio_ms"] is not None and not abs(row["audio_ms"]) <= row["audio_frame_ms"]:
        return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path, help="folder with the videos and MANIFEST.tsv")
    ap.add_argument("output", type=Path, help="folder for the outputs (created)")
    ap.add_argument("method", help="segmentation method (see `streamseg methods`), e.g. ellipse")
    ap.add_argument("--only", default="", help="run only the files whose name contains this text")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per file")
    args = ap.parse_args()

    with open(args.corpus / "MANIFEST.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if args.only in r["file"]]
    args.output.mkdir(parents=True, exist_ok=True)
    print(f"{'file':<58} {'expect':>6} {'wrote':>5} {'exit':>4} {'timing ms':>9} {'audio ms':>17} {'ok':>3}  message")
    failed = 0
    for r in rows:
        healthy = r["state"] == "healthy"
        expected = int(r["decodable_video_frames"]) if r["decodable_video_frames"] else None
        row = run_one(args.corpus / r["file"], args.output, args.method, args.timeout)
        ok = verdict(row, expected, healthy)
        failed += not ok
        timing = "-" if row["timing_ms"] is None else f"{row['timing_ms']:.2f}"
        if row["audio_ms"] is None:
            audio = "-"
        elif row["audio_frame_ms"] is None:
            audio = "lost"
        else:
            ts = " ts" if row["audio_by"] == "timestamps" else ""
            audio = f"{row['audio_ms']:+.1f} (/{row['audio_frame_ms']:.0f}){ts}"
        exp = "-" if expected is None else str(expected)
        wrote = "-" if row["written"] is None else str(row["written"])
        print(
            f"{r['file']:<58} {exp:>6} {wrote:>5} {row['exit']:>4} {timing:>9} {audio:>17} {'yes' if ok else 'NO':>3}  {row['message'][:160]}",
            flush=True,
        )
    print(f"{len(rows) - failed} of {len(rows)} files as expected (method {args.method})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
