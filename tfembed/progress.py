"""One line per long stage (embedding, evaluation, grid searches, index builds) with its
duration, so a run shows where its time goes without the training loop's bar everywhere:

    with progress.stage("evaluate zero-shot", total=n, unit="queries") as bar:
        ...
        bar.update(k)
    # -> "evaluate zero-shot: 200 queries in 1.3 s"   (on stderr)

On a terminal the line is redrawn in place while the stage runs (at most 5 times a second);
elsewhere (a pipe, CI=true, no terminal) only the finished line is written: logs get one
line per stage, not a stream of carriage returns. A stage opened inside another is silent
(its parent's line covers its time). `TFEMBED_PROGRESS=0` or `progress.enabled = False`
turns it all off. Progress never touches what is computed: it only counts and prints.
"""

import contextlib
import os
import sys
import threading
import time

enabled = os.environ.get("TFEMBED_PROGRESS", "1").lower() not in ("0", "false", "no", "off")
_local = threading.local()  # per thread: the stages running now, outermost first
REDRAW_SECONDS = 0.2


def _open():
    if not hasattr(_local, "stages"):
        _local.stages = []
    return _local.stages


def _live(stream):
    """Redraw in place only on an interactive terminal outside CI."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Bar:
    """The counter of one stage; `update(k)` adds k done units."""

    def __init__(self, name, total=None, unit="", stream=None):
        self.name, self.total, self.unit = name, total, unit
        self.stream = stream or sys.stderr
        self.done, self.start = 0, time.perf_counter()
        self.shown = enabled and not _open()
        self.live = self.shown and _live(self.stream)
        self._drawn = 0.0

    def _count(self):
        unit = f" {self.unit}" if self.unit else ""
        if self.total is None:
            return f"{self.done}{unit}" if self.done else ""
        return f"{self.done}/{self.total}{unit}" if self.done != self.total else \
            f"{self.total}{unit}"

    def update(self, k=1):
        self.done += int(k)
        if self.live and time.perf_counter() - self._drawn >= REDRAW_SECONDS:
            self._drawn = time.perf_counter()
            seconds = self._drawn - self.start
            self.stream.write(f"\r{self.name}: {self._count()} ({seconds:.0f} s)\033[K")
            self.stream.flush()

    def line(self, seconds):
        count = self._count()
        return f"{self.name}: {count + ' in ' if count else ''}{seconds:.1f} s"

    def close(self, finished=True):
        if not self.shown:
            return
        if finished:
            self.stream.write(("\r" if self.live else "") + self.line(
                time.perf_counter() - self.start) + ("\033[K\n" if self.live else "\n"))
        elif self.live:  # abandoned (an error, or a loop left early): clear the live line
            self.stream.write("\r\033[K")
        self.stream.flush()


@contextlib.contextmanager
def stage(name, total=None, unit="", stream=None):
    """A stage: yields its Bar; writes the stage's one line when the block ends normally."""
    bar = Bar(name, total, unit, stream)
    _open().append(bar)
    finished = False
    try:
        yield bar
        finished = True
    finally:
        _open().remove(bar)
        bar.close(finished)


def current():
    """The innermost running stage's Bar (inner loops may count into it), or None."""
    stages = _open()
    return stages[-1] if stages else None


class Counted:
    """An iterable (e.g. a tf.data.Dataset of batches) that is one stage when iterated to the
    end: `size(item)` units per item. Other attributes are the wrapped object's, so callers
    can still treat it as the dataset. A loop left early writes no line."""

    def __init__(self, iterable, name, total=None, unit="", size=len):
        self.iterable, self.name, self.total, self.unit, self.size = \
            iterable, name, total, unit, size

    def __getattr__(self, attr):
        return getattr(self.iterable, attr)

    def __iter__(self):
        with stage(self.name, self.total, self.unit) as bar:
            for item in self.iterable:
                yield item
                bar.update(self.size(item))
