"""The live preview window (OpenCV HighGUI); q or Esc closes it."""

from __future__ import annotations

import os
import sys

import numpy as np

from streamseg.errors import StreamsegError
from streamseg.sinks.base import EndOfRun, Sink


def display_available() -> bool:
    """True when a window can be opened (an X11/Wayland display on Linux)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class Window:
    """A resizable OpenCV window. :meth:`show` returns False once the user quits."""

    QUIT_KEYS = (ord("q"), ord("Q"), 27)

    def __init__(self, title: str = "streamseg") -> None:
        import cv2

        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            raise StreamsegError(f"cannot open a window ({exc.msg.strip() if hasattr(exc, 'msg') else exc}); use --no-show") from None
        self._shown = False

    def show(self, image: np.ndarray) -> bool:
        """Display a BGR frame; False when q/Esc was pressed or the window was closed."""
        import cv2

        cv2.imshow(self.title, image)
        key = cv2.waitKey(1) & 0xFF
        if key in self.QUIT_KEYS:
            return False
        if self._shown and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return False
        self._shown = True
        return True

    def close(self) -> None:
        import cv2

        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass


class WindowSink(Sink):
    """Shows one output type with a HUD; ends the run (:class:`~streamseg.sinks.base.EndOfRun`)
    when the user pressed q/Esc or closed the window.

    Args:
        window: the :class:`Window` it owns (closed by :meth:`close`).
        output_type: what is shown (``overlay`` by default).
        hud: ``hud(result) -> list[str]``, the lines drawn in the corner, or ``None``.
    """

    def __init__(self, window: Window, output_type: str = "overlay", hud=None) -> None:
        self.window = window
        self.output_type = output_type
        self.hud = hud

    def write(self, result) -> None:
        """Show ``result.pictures[output_type]`` (with the HUD on a copy, sized to the frame; a
        BGRA picture is shown over black)."""
        from streamseg.effects.hud import burn_hud

        shown = result.pictures[self.output_type]
        if shown.ndim == 3 and shown.shape[2] == 4:
            from streamseg.effects.alpha import flatten

            shown = flatten(shown, None)
        if self.hud is not None:
            shown = burn_hud(shown, self.hud(result))
        if not self.window.show(shown):
            raise EndOfRun

    def close(self) -> None:
        self.window.close()
