"""Print the ROIs streamseg sends over OSC (python-osc), one line per frame.

Run this first, then streamseg with an OSC sink:

    python examples/osc_receiver.py --port 9000
    streamseg webcam --rois osc://127.0.0.1:9000 --hands

Addresses (prefix ``/streamseg`` unless the sink URL has a path, e.g. ``osc://127.0.0.1:9000/td``),
all in one bundle per frame:

    /streamseg/frame      frame:i time:f width:i height:i skin_fraction:f n_regions:i
    /streamseg/region     id:i label:s score:f x:f y:f w:f h:f cx:f cy:f area:f predicted:i gesture:s handedness:s
    /streamseg/landmarks  id:i x0:f y0:f z0:f ... x20:f y20:f z20:f      (hands, with --hands)

Coordinates are normalised to [0, 1] by the frame size (x, y: top-left corner of the box).
"""

from __future__ import annotations

import argparse

from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer


class Printer:
    """Collects one frame's messages and prints them when the next frame starts."""

    def __init__(self) -> None:
        self.line = ""

    def frame(self, address: str, index: int, t: float, w: int, h: int, skin: float, n: int) -> None:
        if self.line:
            print(self.line, flush=True)
        self.line = f"frame {index:5d}  t={t:7.3f}s  {w}x{h}  skin {100 * skin:4.1f}%  regions {n}:"

    def region(self, address: str, rid: int, label: str, score: float, x: float, y: float, w: float, h: float,
               cx: float, cy: float, area: float, predicted: int, gesture: str, handedness: str) -> None:
        extra = f" {handedness} {gesture}" if label == "hand" else ""
        flag = "~" if predicted else ""
        self.line += f"  #{rid}{flag} {label}{extra} ({x:.2f},{y:.2f},{w:.2f},{h:.2f})"

    def landmarks(self, address: str, rid: int, *xyz: float) -> None:
        self.line += f" [{len(xyz) // 3} landmarks, wrist ({xyz[0]:.2f},{xyz[1]:.2f})]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=9000, help="UDP port (default 9000)")
    ap.add_argument("--prefix", default="/streamseg", help="OSC address prefix (default /streamseg)")
    args = ap.parse_args()

    p = Printer()
    disp = Dispatcher()
    disp.map(f"{args.prefix}/frame", p.frame)
    disp.map(f"{args.prefix}/region", p.region)
    disp.map(f"{args.prefix}/landmarks", p.landmarks)
    server = BlockingOSCUDPServer((args.host, args.port), disp)
    print(f"listening for OSC on {args.host}:{args.port} ({args.prefix}/...); Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
