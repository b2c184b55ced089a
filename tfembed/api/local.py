"""`tfembed.load(path)`: an export run in this process (tf.saved_model.load), with the files
the exporter and `tfembed index build` leave beside it: the gallery index, the baked-in
gallery (assets.extra/gallery.npz) and, for messages, the run that exported it."""

import json
import os

import numpy as np

from tfembed.api.answers import BadInput, SignatureError
from tfembed.api.base import EmbeddingModel
from tfembed.errors import DataError
from tfembed.export import signatures as sig
from tfembed.export.versions import GALLERY_FILE, load_saved_model, resolve_version
from tfembed.index import model_files


def _shape(spec):
    return None if spec.shape.rank is None else spec.shape.as_list()


class LocalModel(EmbeddingModel):
    def __init__(self, path):
        import tensorflow as tf

        self.path = resolve_version(path)  # DataError: no such directory / no version
        try:
            self._loaded = load_saved_model(self.path)
        except (OSError, ValueError, tf.errors.OpError) as err:
            raise DataError(f"not a loadable SavedModel: {str(err).splitlines()[0]}",
                            self.path) from None
        self._fns = {k: v for k, v in self._loaded.signatures.items()}
        self._specs = {name: {
            "inputs": {k: _shape(s) for k, s in fn.structured_input_signature[1].items()},
            "outputs": {k: _shape(s) for k, s in fn.structured_outputs.items()}}
            for name, fn in self._fns.items()}
        self.where = self.path
        self.export_info = model_files.serving_info(self.path)  # assets.extra/tfembed.json
        self._index = self._deep = None  # indexes: the one beside the export; the baked gallery

    def _predict(self, name, arrays):
        import tensorflow as tf

        fn = self._fns[name]
        specs = fn.structured_input_signature[1]
        try:
            out = fn(**{k: tf.convert_to_tensor(v, specs[k].dtype) for k, v in arrays.items()})
        except tf.errors.InvalidArgumentError as err:
            raise BadInput(err.message.splitlines()[0]) from None
        return {k: v.numpy() for k, v in out.items()}

    @property
    def info(self):
        index = self._index_dir()
        return {**super().info, "backend": "local", "path": self.path,
                "version": int(os.path.basename(self.path)) if os.path.basename(
                    self.path).isdigit() else None,
                "index": index, "run": self._run_record(), **{
                    k: self.export_info[k] for k in ("metric", "top_k", "gallery_size")
                    if k in self.export_info}}

    def _run_record(self):
        """recipe + command from <run>/results.json when the export sits in <run>/export/<v>."""
        path = os.path.join(os.path.dirname(os.path.dirname(self.path)), "results.json")
        try:
            with open(path) as f:
                results = json.load(f)
            return {"recipe": results.get("recipe"), "dataset": results.get("dataset"),
                    "command": " ".join(results.get("command") or []), "results": path}
        except (OSError, ValueError, AttributeError):
            return None

    def _provenance(self):
        run = self._run_record()
        if not run:
            return ""
        return (f"; it was exported by recipe {run['recipe']} on {run['dataset']} "
                f"(`{run['command']}`, {run['results']})")

    def _why_missing(self, name):
        has_text = self.export_info.get("has_text", sig.EMBED_TEXT in self._specs)
        if name in (sig.EMBED_TEXT, sig.CLASSIFY) and not has_text:
            extra = (" Call classify(images) without class_texts for its baked-in classes."
                     if sig.CLASSIFY_PROTOTYPES in self._specs else "")
            return (". Its text side is not free text (attributes, word vectors or a label "
                    "table), so it cannot embed texts." + extra)
        if name == sig.RETRIEVE:
            return (". No gallery was baked in at export time: build an index beside it "
                    f"(tfembed index build --model {self.path} --embeddings DIR, the embeddings "
                    "written by tfembed embed).")
        if name == sig.CLASSIFY_PROTOTYPES:
            return ". No class prototypes were baked in at export time: pass class_texts."
        return ""

    def _index_dir(self):
        from tfembed.index.gallery_index import META

        path = model_files.index_dir(self.path)
        return path if os.path.isfile(os.path.join(path, META)) else None

    def _search(self, queries, k):
        """An index beside the export answers every search; else retrieve answers up to its
        fixed top-k, and deeper searches rank the baked-in gallery (`_gallery_index`)."""
        from tfembed.index.query_encoder import flat

        path = self._index_dir()
        if path is not None and self._index is None:
            from tfembed.index import gallery_index

            self._index = gallery_index.load(path)
        index = self._index if path is not None else (
            self._gallery_index() if self._deeper(k) else None)
        if index is None:
            return super()._search(queries, k)
        self._require(sig.EMBED_TEXT, "search with a gallery index")
        return index.search(flat(self.embed_text(queries)), k=k)

    def _shallow_why(self):
        return (" (the baked-in gallery cannot be ranked deeper here: it needs "
                f"assets.extra/{GALLERY_FILE} and a dot, cosine or neg_sq_distance scorer; this "
                f"export records {self.export_info.get('metric')!r})")

    def _deeper(self, k):
        """k beyond the in-graph retrieve's fixed top-k, on a gallery that holds more."""
        fixed = self._specs.get(sig.RETRIEVE, {}).get("outputs", {}).get(sig.IDS, [None])[-1]
        return fixed is not None and k > fixed and not self._whole_gallery(fixed)

    def _gallery_index(self):
        """An exact (brute-force) index over the baked-in gallery by the export's recorded
        scorer, so a deeper search ranks as retrieve does; None when that cannot be exact
        (no gallery file, or a scorer that is not one vector similarity, e.g. alignment)."""
        from tfembed.index import build
        from tfembed.index.similarity import METRICS

        if self._deep is not None:  # looked before (False: it cannot be exact)
            return self._deep if self._deep is not False else None
        self._deep = False  # the gallery file is read and indexed once per model object
        metric = self.export_info.get("metric")
        if metric not in METRICS or sig.EMBED_TEXT not in self._specs or not os.path.isfile(
                os.path.join(self.path, "assets.extra", GALLERY_FILE)):
            return None
        ids, embeddings = self.gallery()
        if embeddings.ndim == 2:
            self._deep = build(list(ids), embeddings, metric, backend="brute_force")
        return self._deep if self._deep is not False else None

    def _whole_gallery(self, fixed):
        return self.export_info.get("gallery_size", fixed + 1) <= fixed

    def _prototype_names(self):
        names = self.export_info.get("prototype_names")
        return list(names) if names else None

    def gallery(self):
        """(ids: object array of str [G], embeddings: float32 [G, D]) of the gallery baked into
        the export's `retrieve` (the exporter's copy in assets.extra/gallery.npz)."""
        if not os.path.isfile(os.path.join(self.path, "assets.extra", GALLERY_FILE)):
            raise SignatureError(f"{self.path}: this export has no baked-in gallery "
                                 f"(assets.extra/{GALLERY_FILE}){self._provenance()}")
        ids, embeddings = model_files.export_gallery(self.path)
        return np.asarray([str(i) for i in ids], dtype=object), np.asarray(embeddings, np.float32)
