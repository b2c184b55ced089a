"""The gallery the page searches: ids, their embeddings, and an index ranking by the model's
own scorer (tfembed.index, so the app ranks exactly like `retrieve` and `tfembed search`).

`--images` galleries are embedded once through the model (in process, over gRPC or REST) and cached
beside the export, keyed by the version and every file's name, size and modification time, so
a restart reuses them and a changed file is embedded again. Files the model cannot decode are
skipped and listed on the page, never fatal.
"""

import hashlib
import json
import os
import sys
import time
import uuid

import numpy as np

CACHE_DIR = ".tfembed_app_cache"  # beside the numbered versions; not a number, so servers skip it
BATCH = 16


class Progress:
    """What the page's progress bar shows while the gallery is embedded."""

    def __init__(self):
        self.state, self.done, self.total, self.message = "starting", 0, 0, ""
        self.skipped = []  # (id, reason)
        self._last_print = 0.0

    def as_dict(self):
        return {"state": self.state, "done": self.done, "total": self.total,
                "message": self.message, "skipped": [{"id": i, "reason": r}
                                                     for i, r in self.skipped[:20]],
                "skipped_count": len(self.skipped)}

    def advance(self, done):
        self.done = done
        now = time.monotonic()
        if now - self._last_print > 2 or done == self.total:  # the terminal's progress line
            self._last_print = now
            print(f"\rembedding gallery images: {done}/{self.total}", end="\n" if
                  done == self.total else "", file=sys.stderr, flush=True)


def cache_path(version_dir, ids, paths):
    base = os.path.dirname(os.path.abspath(version_dir))
    stamp = [os.path.basename(os.path.abspath(version_dir))]
    for image_id, path in zip(ids, paths):
        st = os.stat(path)
        stamp.append([image_id, st.st_size, st.st_mtime_ns])
    key = hashlib.sha1(json.dumps(stamp).encode()).hexdigest()[:16]
    return os.path.join(base, CACHE_DIR, f"images-v{stamp[0]}-{key}.npz")


def _embed_batch(model, ids, paths, progress):
    """Embeddings of the batch; on failure each file alone, so one bad file costs only itself."""
    try:
        return list(ids), list(np.asarray(model.embed_image(list(paths)), np.float32))
    except Exception:  # noqa: BLE001 - retried one by one below, the bad ones are reported
        pass
    kept, vectors = [], []
    for image_id, path in zip(ids, paths):
        try:
            vectors.append(np.asarray(model.embed_image([path]), np.float32)[0])
            kept.append(image_id)
        except Exception as err:  # noqa: BLE001 - shown on the page, the gallery goes on
            progress.skipped.append((image_id, f"{type(err).__name__}: {str(err)[:200]}"))
    return kept, vectors


def embed_files(model, version_dir, ids, paths, progress):
    """(ids, embeddings [N, D]) of the image files, from the cache when it is current."""
    path = cache_path(version_dir, ids, paths)
    progress.total = len(ids)
    if os.path.isfile(path):
        with np.load(path, allow_pickle=False) as data:
            progress.skipped = [tuple(s.split("\t", 1)) for s in data["skipped"]]
            progress.advance(len(ids))
            return list(data["ids"]), data["embeddings"]
    progress.state = "embedding"
    kept, vectors = [], []
    for start in range(0, len(ids), BATCH):
        got_ids, got = _embed_batch(model, ids[start:start + BATCH], paths[start:start + BATCH],
                                    progress)
        kept += got_ids
        vectors += got
        progress.advance(min(start + BATCH, len(ids)))
    embeddings = np.stack(vectors).reshape(len(vectors), -1) if vectors else np.zeros((0, 0))
    _save_cache(path, kept, embeddings, progress.skipped)
    return kept, embeddings


def _save_cache(path, ids, embeddings, skipped):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}.npz"
        np.savez(tmp, ids=np.asarray(ids, dtype=str), embeddings=embeddings,
                 skipped=np.asarray([f"{i}\t{r}" for i, r in skipped], dtype=str))
        os.replace(tmp, path)  # a reader sees the old cache or the whole new one
    except OSError as err:  # a read-only export still works, it is just embedded again next time
        print(f"warning: could not cache the gallery embeddings at {path}: {err}",
              file=sys.stderr)


class Gallery:
    """ids + embeddings + an exact index by the model's metric (None: search only in graph)."""

    def __init__(self, ids, embeddings, metric, baked, index=None):
        self.ids, self.embeddings, self.metric, self.baked = list(ids), embeddings, metric, baked
        self.row = {image_id: i for i, image_id in enumerate(self.ids)}
        self.index = index
        if index is None and metric is not None and embeddings is not None and len(self.ids):
            from tfembed.index import build
            self.index = build(self.ids, np.asarray(embeddings, np.float32).reshape(
                len(self.ids), -1), metric, backend="brute_force")

    def __len__(self):
        return len(self.ids)

    def nearest(self, query, k):
        """query [D] -> [(id, score)], best first."""
        ids, scores = self.index.search(np.asarray(query, np.float32).reshape(1, -1), k=k)
        return [(str(i), float(s)) for i, s in zip(ids[0], scores[0]) if i != ""]
