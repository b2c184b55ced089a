"""Watches model base paths and keeps the right versions loaded.

Like TF Serving's file-system source + aspired-versions manager, simplified:
a poll thread lists ``<base_path>/<N>/`` directories, loads a new version
completely (including warm-up) before it becomes visible, and only then unloads
the version it replaces. A version that fails to load is reported as END with
its error in GetModelStatus and is not retried until its files change, so the
last good version keeps serving. With the latest policy the served version
never goes backwards, even if the newest directory is removed from disk.
"""

import logging
import os
import threading

import grpc
from tensorflow_serving.apis import get_model_status_pb2

from tfembed.errors import TfembedError
from tfembed.serving.index_retrieve import attach_index, index_stamp
from tfembed.serving.loader import LoadError, load_version
from tfembed.serving.status import not_found, unavailable

log = logging.getLogger("tfembed.serving")
State = get_model_status_pb2.ModelVersionStatus.State
_FINGERPRINT_FILES = ("saved_model.pb", "variables/variables.index",
                      "assets.extra/tf_serving_warmup_requests",
                      "assets.extra/gallery_index/meta.json")


class _Model:
    def __init__(self, config):
        self.config = config
        self.loaded = {}  # version -> LoadedVersion
        self.states = {}  # version -> (State, grpc code int, message)
        self.failed = {}  # version -> fingerprint of the files that failed
        self.index_failed = {}  # version -> stamp of a gallery index that could not be used


def _fingerprint(path):
    """Cheap change detector: a failed version is retried only if this changes."""
    out = []
    for name in ("",) + _FINGERPRINT_FILES:
        try:
            st = os.stat(os.path.join(path, name))
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class ModelManager:
    def __init__(self, configs, limits, poll_seconds=1.0):
        self._models = {c.name: _Model(c) for c in configs}
        self._limits = limits
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Load what is on disk now, then keep polling (0 = poll only once)."""
        self.poll_once()
        if self._poll_seconds > 0:
            self._thread = threading.Thread(target=self._run, name="tfembed-poll", daemon=True)
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self):
        while not self._stop.wait(self._poll_seconds):
            try:
                self.poll_once()
            except Exception:  # never let one bad poll kill the watcher
                log.exception("model poll failed")

    def poll_once(self):
        for model in self._models.values():
            self._sync(model)

    def _scan(self, model):
        try:
            names = os.listdir(model.config.base_path)
        except OSError:
            return {}
        return {int(n): os.path.join(model.config.base_path, n) for n in names
                if n.isdigit() and os.path.isdir(os.path.join(model.config.base_path, n))}

    def _sync(self, model):
        config, disk = model.config, self._scan(model)
        if config.policy == "latest":
            keep = []
            # Loaded versions count even when deleted from disk: never go backwards.
            for version in sorted(set(disk) | set(model.loaded), reverse=True):
                if self._stop.is_set() or len(keep) >= config.num_versions:
                    break
                if version in model.loaded:
                    self._refresh_index(model, version)
                    keep.append(version)
                elif self._try_load(model, version, disk[version]):
                    keep.append(version)
            stale = [v for v in model.loaded if v not in keep]
        else:
            wanted = config.versions if config.policy == "specific" else sorted(disk)
            for version in wanted:
                if version in model.loaded:
                    self._refresh_index(model, version)
                elif version in disk and not self._stop.is_set():
                    self._try_load(model, version, disk[version])
            stale = [v for v in model.loaded if config.policy == "all" and v not in disk]
        for version in stale:
            self._unload(model, version)

    def _try_load(self, model, version, path):
        name, fingerprint = model.config.name, _fingerprint(path)
        if model.failed.get(version) == fingerprint:
            return False
        self._set_state(model, version, State.LOADING)
        try:
            loaded = load_version(name, version, path, self._limits)
        except LoadError as err:
            log.error("%s version %d not loaded: %s", name, version, err)
            model.failed[version] = fingerprint
            self._set_state(model, version, State.END, err.code, str(err))
            return False
        with self._lock:  # visible to requests only now, fully loaded and warmed up
            model.loaded[version] = loaded
            model.failed.pop(version, None)
            model.states[version] = (State.AVAILABLE, 0, "")
        log.info("%s version %d is AVAILABLE", name, version)
        return True

    def _refresh_index(self, model, version):
        """Pick up a gallery index built (or rebuilt) for an already loaded version."""
        loaded = model.loaded[version]
        stamp = index_stamp(loaded.path)
        if stamp is None or stamp == loaded.index_stamp or model.index_failed.get(version) == stamp:
            return
        try:
            loaded.index_stamp = attach_index(loaded)
            log.info("%s version %d: retrieve now uses the gallery index", model.config.name,
                     version)
        except TfembedError as err:  # keep serving with what we had; don't retry unchanged files
            model.index_failed[version] = stamp
            log.error("%s version %d: gallery index not used: %s", model.config.name, version, err)

    def _unload(self, model, version):
        # In-flight requests hold their own reference; memory goes when they finish.
        with self._lock:
            model.loaded.pop(version, None)
            model.states[version] = (State.END, 0, "")
        log.info("%s version %d unloaded", model.config.name, version)

    def _set_state(self, model, version, state, code=grpc.StatusCode.OK, message=""):
        with self._lock:
            model.states[version] = (state, code.value[0], message)

    def get(self, name, version=None, label=None):
        """The LoadedVersion serving a request, or ServingError."""
        model = self._models.get(name)
        if model is None:
            raise not_found(f"model_spec.name: Servable not found for request: Latest({name})")
        with self._lock:
            if label:
                if label not in model.config.labels:
                    raise not_found(f"model_spec.version_label: unknown label '{label}' "
                                    f"for model '{name}'")
                version = model.config.labels[label]
            if version is None:
                if not model.loaded:
                    raise unavailable(f"model '{name}': no version is loaded yet")
                return model.loaded[max(model.loaded)]
            if version not in model.loaded:
                raise not_found(f"model_spec.version: Servable not found for request: "
                                f"Specific({name}, {version})")
            return model.loaded[version]

    def status(self, name, version=None, label=None):
        """[(version, State, code int, message)] newest first, or ServingError."""
        model = self._models.get(name)
        if model is None:
            raise not_found(f"model_spec.name: Could not find any versions of model {name}")
        if label:
            if label not in model.config.labels:
                raise not_found(f"model_spec.version_label: unknown label '{label}' "
                                f"for model '{name}'")
            version = model.config.labels[label]
        with self._lock:
            rows = sorted(((v,) + s for v, s in model.states.items()), reverse=True)
        if version is not None:
            rows = [r for r in rows if r[0] == version]
            if not rows:
                raise not_found(f"model_spec.version: Could not find version {version} "
                                f"of model {name}")
        return rows

    def model_names(self):
        return sorted(self._models)
