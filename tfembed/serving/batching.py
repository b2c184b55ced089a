"""Optional server-side batching (``--enable_batching``).

Leader/follower, no background threads: the first request for a
(version, signature) opens a batch and waits up to ``timeout`` seconds for
others to join (or until ``max_batch_size`` rows are queued), then runs the
merged batch once and hands every joiner its own slice of the outputs.
Only signatures whose inputs all share dim 0 as the batch are merged.
"""

import threading

import numpy as np


class _Batch:
    def __init__(self):
        self.parts = []  # [(arrays, rows)]
        self.rows = 0
        self.full = threading.Event()
        self.done = threading.Event()
        self.outputs = None
        self.error = None


class Batcher:
    def __init__(self, max_batch_size, timeout_seconds):
        self.max_batch_size = max_batch_size
        self.timeout = timeout_seconds
        self._lock = threading.Lock()
        self._open = {}  # key -> _Batch accepting joiners

    def run(self, key, run_fn, arrays):
        """Run ``run_fn`` on ``arrays`` merged with concurrent requests for ``key``."""
        rows = len(next(iter(arrays.values())))
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None or batch.rows + rows > self.max_batch_size
            if leader:
                batch = self._open[key] = _Batch()
            start = batch.rows
            batch.parts.append((arrays, rows))
            batch.rows += rows
            if batch.rows >= self.max_batch_size:
                self._close(key, batch)
        if leader:
            batch.full.wait(self.timeout)
            with self._lock:
                self._close(key, batch)
            try:
                merged = {k: np.concatenate([p[0][k] for p in batch.parts])
                          for k in arrays} if len(batch.parts) > 1 else arrays
                batch.outputs = run_fn(merged)
            except Exception as err:  # every joiner gets the same error
                batch.error = err
            finally:
                batch.done.set()
        else:
            batch.done.wait()
        if batch.error is not None:
            raise batch.error
        if len(batch.parts) == 1:
            return batch.outputs
        return {k: v[start:start + rows] for k, v in batch.outputs.items()}

    def _close(self, key, batch):
        if self._open.get(key) is batch:
            del self._open[key]
        batch.full.set()
