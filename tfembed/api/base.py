"""What `tfembed.load` (in-process SavedModel) and `tfembed.connect` (gRPC or REST) share: the
methods and their return types are written once over two primitives a back end provides — its
signature specs and one Predict call — so all answer the same way."""

import numpy as np

from tfembed.api import inputs
from tfembed.api.answers import BadInput, Probabilities, SignatureError, decode_ids
from tfembed.errors import DataError
from tfembed.export import signatures as sig

__all__ = ["EmbeddingModel", "BadInput", "Probabilities", "SignatureError"]


class EmbeddingModel:
    """An exported tfembed model: embed_text, embed_image, classify, search, gallery.

    Subclasses set `_specs` ({signature: {"inputs": {name: shape}, "outputs": {...}}}, shapes
    as lists with None for unknown dims) and `where` (for messages), and implement `_predict`.
    """

    batch_size = 64  # rows per request: bounds memory and gRPC message size

    @property
    def signatures(self):
        """{signature name: {"inputs": {name: shape}, "outputs": {name: shape}}}."""
        return {k: {side: dict(v[side]) for side in ("inputs", "outputs")}
                for k, v in sorted(self._specs.items())}

    @property
    def info(self):
        return {"where": self.where, "signatures": sorted(self._specs),
                "image_input": self.image_input}

    @property
    def image_input(self):
        """"image" (encoded image bytes) or "features" (precomputed vectors)."""
        spec = self._specs.get(sig.EMBED_IMAGE) or self._specs.get(sig.CLASSIFY_PROTOTYPES) or {}
        return sig.FEATURES if sig.FEATURES in spec.get("inputs", {}) else sig.IMAGE

    def _provenance(self):
        return ""

    def _why_missing(self, name):
        return ""

    def _require(self, name, what):
        if name not in self._specs:
            raise SignatureError(
                f"{self.where}: this export has no {name} signature, needed for {what} (it has "
                f"{', '.join(sorted(self._specs)) or 'none'}){self._provenance()}"
                f"{self._why_missing(name)}")

    def _run(self, name, batch, extra=None, names=None):
        """Predict over `batch` ({input: array [N, ...]}) in chunks; outputs concatenated."""
        count = len(next(iter(batch.values())))
        parts = []
        for start in range(0, max(count, 1), self.batch_size):
            chunk = {k: v[start:start + self.batch_size] for k, v in batch.items()}
            try:
                parts.append(self._predict(name, {**chunk, **(extra or {})}))
            except BadInput as err:
                raise self._locate_bad(name, chunk, extra, names, start, err) from None
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def _locate_bad(self, name, chunk, extra, names, start, err):
        """Retry row by row to name the image (file) the model refused."""
        rows = len(next(iter(chunk.values())))
        for i in range(rows if names and rows > 1 else 0):
            try:
                self._predict(name, {**{k: v[i:i + 1] for k, v in chunk.items()}, **(extra or {})})
            except BadInput as one:
                return DataError(f"{name} refused this input: {one}", names[start + i])
        where = names[start] if names and rows == 1 else self.where
        return DataError(f"{name} refused the input: {err}", where)

    def _images(self, images):
        if self.image_input == sig.FEATURES:
            spec = (self._specs.get(sig.EMBED_IMAGE) or self._specs[sig.CLASSIFY_PROTOTYPES])
            rows, names = inputs.feature_rows(images, spec["inputs"][sig.FEATURES][-1])
            return {sig.FEATURES: rows}, names
        encoded, names = inputs.encoded_images(images)
        return {sig.IMAGE: encoded}, names

    def embed_text(self, texts):
        """list of str (or one str) -> float32 [N, D] ([N, L, D] for word-sequence models)."""
        self._require(sig.EMBED_TEXT, "embed_text")
        return self._run(sig.EMBED_TEXT, {sig.TEXT: inputs.texts(texts)})[sig.EMBEDDING]

    def embed_image(self, images):
        """Image file paths, encoded bytes or uint8 arrays [H, W, 3] (PNG-encoded here) ->
        float32 [N, D]; for an export that takes features: vectors [F] or a matrix [N, F]."""
        self._require(sig.EMBED_IMAGE, "embed_image")
        batch, names = self._images(images)
        return self._run(sig.EMBED_IMAGE, batch, names=names)[sig.EMBEDDING]

    def classify(self, images, class_texts=None):
        """Probabilities [N, C] that each image shows each class (see `Probabilities`).

        The model gives compatibility scores (dot product, cosine, ... of the embeddings), not
        probabilities; the softmax over the C classes is ours. class_texts None: the classes
        baked into the export (classify_prototypes), whose `predicted` names come from it.
        """
        batch, names = self._images(images)
        if class_texts is None:
            self._require(sig.CLASSIFY_PROTOTYPES, "classify(images) without class_texts")
            out = self._run(sig.CLASSIFY_PROTOTYPES, batch, names=names)
            predicted = [c.decode("utf-8") if isinstance(c, bytes) else str(c)
                         for c in out[sig.CLASSES]]
            return Probabilities(inputs.softmax(out[sig.SCORES]), self._prototype_names(),
                                 predicted, out[sig.SCORES])
        classes = inputs.texts(class_texts, "class_texts")
        if len(classes) == 0:
            raise DataError("class_texts is empty: give at least one class text")
        self._require(sig.CLASSIFY, "classify(images, class_texts)")
        scores = self._run(sig.CLASSIFY, batch, {sig.CLASS_TEXTS: classes}, names)[sig.SCORES]
        names = [c.decode("utf-8") for c in classes]
        return Probabilities(inputs.softmax(scores), names,
                             [names[i] for i in np.argmax(scores, axis=1)], scores)

    def _prototype_names(self):
        return None

    def search(self, text, k=10):
        """Top-k gallery items for a text: (ids, scores), best first.

        One str -> 1-D arrays (ids: str objects, scores: float32); a list -> [N, k]. An index
        built beside the export (tfembed index build) is used when present, else the export's
        in-graph `retrieve`, which returns at most the top-k fixed at export time; in process
        (tfembed.load) a deeper k ranks the baked-in gallery by the export's recorded scorer
        (dot, cosine, neg_sq_distance). k beyond the gallery gives the whole gallery.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise DataError(f"k must be an integer >= 1, got {k!r}")
        queries = inputs.texts(text, "text")
        ids, scores = self._search(queries, int(k))
        return (ids[0], scores[0]) if isinstance(text, (str, bytes)) else (ids, scores)

    def _search(self, queries, k):
        self._require(sig.RETRIEVE, "search")
        fixed = self._specs[sig.RETRIEVE]["outputs"][sig.IDS][-1]
        if fixed is not None and k > fixed and not self._whole_gallery(fixed):
            raise DataError(f"k={k}: {self.where}'s retrieve returns its top {fixed} (fixed at "
                            f"export time); build an index beside the export (tfembed index "
                            f"build --model ...) to search deeper{self._shallow_why()}")
        out = self._run(sig.RETRIEVE, {sig.TEXT: queries})
        return decode_ids(out[sig.IDS][:, :k]), out[sig.SCORES][:, :k]

    def _shallow_why(self):
        return (", or load the export in process (tfembed.load), which ranks its baked-in "
                "gallery deeper by the export's scorer")

    def _whole_gallery(self, fixed):
        """True when `fixed` results are the whole gallery (asking for more returns them all)."""
        return False

    def gallery(self):
        """(ids, embeddings) of the gallery baked into the export."""
        raise SignatureError(f"{self.where}: the baked-in gallery is not readable through "
                             f"this back end")

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<{type(self).__name__} {self.where}: {', '.join(sorted(self._specs))}>"


class ServedModel(EmbeddingModel):
    """What the gRPC and REST back ends share: `address`, `model_name`, `version`, and no
    access to the gallery (a server's predict only runs signatures)."""

    BACKEND, PROTOCOL = None, None  # e.g. "grpc", "gRPC"

    @property
    def info(self):
        return {**super().info, "backend": self.BACKEND, "address": self.address,
                "model": self.model_name, "version": self.version}

    def gallery(self):
        raise SignatureError(
            f"{self.where}: the baked-in gallery is not reachable over {self.PROTOCOL} (TF "
            f"Serving's predict runs signatures, and no signature returns the gallery's "
            f"embeddings); load the export in process (tfembed.load) to read it")
