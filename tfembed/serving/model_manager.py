"""Watches model base paths and keeps the right versions loaded.

Like TF Serving's file-system source + aspired-versions manager, simplified:
a poll thread lists ``<base_path>/<N>/`` directories, loads a new version
completely (including warm-up) before it becomes visible, and only then unloads
the version it replaces. A version that fails to load (for any reason, a bug
included) is reported as END with its error in GetModelStatus and is not
retried until its files change, so the last good version keeps serving; once
its directory is deleted it leaves GetModelStatus. With the latest policy the
served version never goes backwards, even if the newest directory is removed
from disk. A base path that is missing or holds no versions is logged (as TF
Serving does) and polled again.
"""

import logging
import os
import threading

import grpc
from tensorflow_serving.apis import get_model_status_pb2

from tfembed.serving.index_retrieve import attach_index, index_stamp
from tfembed.serving.loader import LoadError, load_version
from tfembed.serving.status import not_found, unavailable

log = logging.getLogger("tfembed.serving")
State = get_model_status_pb2.ModelVersionStatus.State
_FINGERPRINT_DIRS = ("variables", "assets", "assets.extra")  # every file below them counts


class _Model:
    def __init__(self, config):
        self.config = config
        self.loaded = {}  # version -> LoadedVersion
        self.states = {}  # version -> (State, grpc code int, message)
        self.failed = {}  # version -> fingerprint of the files that failed
        self.index_failed = {}  # version -> stamp of a gallery index that could not be used
        self.base_path_warning = None  # last warning logged about the base path


def _fingerprint(path):
    """Cheap change detector: a failed version is retried only if this changes.

    Sizes and mtimes of saved_model.pb and of every file under variables/, assets/ and
    assets.extra/ (warm-up file, gallery index), so a repair in place is noticed.
    """
    out = []
    names = ["", "saved_model.pb"]
    for top in _FINGERPRINT_DIRS:
        for root, dirs, files in os.walk(os.path.join(path, top)):
            dirs.sort()
            names += sorted(os.path.relpath(os.path.join(root, f), path) for f in files)
    for name in names:
        try:
            st = os.stat(os.path.join(path, name))
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, None))
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
            try:  # one model's trouble never stops the others
                self._sync(model)
            except Exception:
                log.exception("%s: poll failed", model.config.name)

    def _scan(self, model):
        name, base = model.config.name, model.config.base_path
        try:
            names = os.listdir(base)
        except OSError as err:
            self._warn_base_path(model, f"could not find base path {base} for servable {name} "
                                        f"({err.strerror}); still polling")
            return {}
        versions = {int(n): os.path.join(base, n) for n in names
                    if n.isdigit() and os.path.isdir(os.path.join(base, n))}
        if not versions:
            self._warn_base_path(model, f"no versions of servable {name} found under base path "
                                        f"{base} (version directories are numbers, e.g. "
                                        f"{os.path.join(base, '1')}); still polling")
        else:
            model.base_path_warning = None
        return versions

    def _warn_base_path(self, model, message):
        if model.base_path_warning != message:  # once per change, not on every poll
            model.base_path_warning = message
            log.warning(message)

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
        self._forget_deleted_failures(model, disk)

    def _forget_deleted_failures(self, model, disk):
        """A failed (or interrupted) version whose directory is gone leaves GetModelStatus."""
        with self._lock:
            gone = [v for v, (state, code, _) in model.states.items()
                    if v not in disk and v not in model.loaded
                    and (code != 0 or state == State.LOADING)]
            for version in gone:
                del model.states[version]
                model.failed.pop(version, None)
                model.index_failed.pop(version, None)

    def _try_load(self, model, version, path):
        name, fingerprint = model.config.name, _fingerprint(path)
        if model.failed.get(version) == fingerprint:
            return False
        self._set_state(model, version, State.LOADING)
        try:
            loaded = load_version(name, version, path, self._limits)
        except Exception as err:  # any failure ends the version, never the server or the poll
            if isinstance(err, LoadError):
                code, message = err.code, str(err)
                log.error("%s version %d not loaded: %s", name, version, message)
            else:
                code, message = grpc.StatusCode.UNKNOWN, f"{type(err).__name__}: {err}"
                log.exception("%s version %d not loaded", name, version)
            model.failed[version] = fingerprint
            self._set_state(model, version, State.END, code, message)
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
        except Exception as err:  # keep serving with what we had; don't retry unchanged files
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
