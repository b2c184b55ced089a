"""What the page does, on top of the Python API (`tfembed.load` in process, `tfembed.connect`
over gRPC or REST): search the gallery with a description, find images like a gallery image,
and classify an upload zero-shot. The web layer (`server.py`) only moves JSON and bytes.

The gallery is built in a background thread (embedding `--images` can take a minute), so the
page is up at once and shows a progress bar; requests that need it wait for it.
"""

import sys
import threading

import numpy as np

from tfembed.app import pictures as pics
from tfembed.app.alignment import align, is_alignment_model, region_boxes
from tfembed.app.gallery import Progress
from tfembed.app.startup import load_gallery, prototype_classes
from tfembed.app.uploads import UploadError, check_image, check_k, check_query, parse_classes
from tfembed.errors import DataError
from tfembed.index.model_files import serving_info


class AppService:
    def __init__(self, model, version_dir, images=None, k=None, model_label=""):
        self.model, self.version_dir, self.images = model, version_dir, images
        self.info = serving_info(version_dir)
        self.k = int(k or self.info.get("top_k") or 12)
        self.metric = self.info.get("metric")
        self.label = model_label or version_dir
        self.progress, self.gallery, self.pictures = Progress(), None, pics.Pictures()
        self.notes, self.classes = [], []
        self._ready = threading.Event()

    # -- start-up ------------------------------------------------------------------------
    def start(self, background=True):
        if not background:
            return self._build()
        threading.Thread(target=self._build, name="gallery", daemon=True).start()
        return None

    def _build(self):
        try:
            self.gallery, self.pictures = load_gallery(
                self.model, self.version_dir, self.images, self.metric, self.progress, self.notes)
            self.classes = prototype_classes(self.info, self.version_dir)
            self.progress.state = "ready"
        except Exception as err:  # noqa: BLE001 - the page shows it; the process stays up
            self.progress.state, self.progress.message = "failed", f"{type(err).__name__}: {err}"
            print(f"tfembed app: gallery failed: {self.progress.message}", file=sys.stderr)
        finally:
            self._ready.set()

    def wait(self, timeout=2):
        """The gallery, or a 503 the page shows while it is still being embedded."""
        self._ready.wait(timeout)
        if self.gallery is None:
            p = self.progress
            why = (p.message if p.state == "failed" else
                   f"still embedding the images ({p.done}/{p.total}); try again when the "
                   f"progress bar is full")
            raise UploadError(f"the gallery is not available: {why}", status=503)
        return self.gallery

    # -- the page's requests -------------------------------------------------------------
    def status(self):
        return {**self.progress.as_dict(), "notes": self.notes}

    def describe(self):
        return {"model": self.label, "version_dir": self.version_dir, "k": self.k,
                "metric": self.metric, "classify": self.info.get("image_input") == "image",
                "image_input": self.info.get("image_input"), "classes": self.classes,
                "similar": self.metric is not None, "alignment": is_alignment_model(self.model),
                **self.status()}

    def _result(self, gallery, pairs):
        return [{"rank": r + 1, "id": i, "score": s, "row": gallery.row.get(i),
                 "picture": i in self.pictures} for r, (i, s) in enumerate(pairs)]

    def search(self, text, k=None):
        text = check_query(text)
        gallery = self.wait()
        k = check_k(self.k if k is None else k, len(gallery))
        fixed = self.info.get("top_k") or 0  # the in-graph retrieve's own k
        served = self.model.info.get("backend") != "local"
        if gallery.baked and not (served and fixed < k and fixed < len(gallery)):
            try:
                ids, scores = self.model.search(text, k)  # retrieve, or deeper by its scorer
            except DataError as err:  # e.g. deeper than an alignment model's retrieve
                raise UploadError(str(err)) from None
            pairs = [(str(i), float(s)) for i, s in zip(ids, scores)]
        elif gallery.index is None:
            raise UploadError(f"k={k}: only the export's top {fixed} (this model's score is "
                              f"not a vector similarity an index can rank by)")
        else:  # an --images gallery, or deeper than a server's retrieve goes (the server
            # cannot read the baked gallery; this process has the export's copy)
            query = np.asarray(self.model.embed_text([text]), np.float32)[0]
            pairs = gallery.nearest(query, k)
        return {"query": text, "results": self._result(gallery, pairs)}

    def similar(self, image_id, k=None):
        gallery = self.wait()
        if image_id not in gallery.row:
            raise UploadError(f"no gallery image with id {image_id!r}", status=404)
        if gallery.index is None:
            raise UploadError("similar images need a vector scorer (dot, cosine or "
                              "neg_sq_distance); this model's score is not one")
        k = check_k(self.k if k is None else k, max(len(gallery) - 1, 1))
        query = np.asarray(gallery.embeddings, np.float32).reshape(len(gallery), -1)[
            gallery.row[image_id]]
        pairs = [p for p in gallery.nearest(query, k + 1) if p[0] != image_id][:k]
        return {"query_id": image_id, "results": self._result(gallery, pairs)}

    def classify(self, data, filename, classes_text):
        if self.info.get("image_input") != "image":
            raise UploadError("this export takes precomputed image features, not image files: "
                              "classify needs an export with an image input")
        image = check_image(data, filename)
        classes = parse_classes(classes_text)
        prototypes = classes == self.classes  # the prefilled list: the export's own prototypes
        try:
            probabilities = self.model.classify([image], None if prototypes else classes)
        except DataError as err:  # e.g. bytes Pillow reads but the model's decoder does not
            raise UploadError(f"{filename}: the model could not read this image ({err})") \
                from None
        names = list(probabilities.classes or (self.classes if prototypes else classes))
        row = np.asarray(probabilities[0], np.float64)
        order = np.argsort(-row, kind="stable")
        return {"file": filename, "source": "the export's class prototypes" if prototypes else
                "the class descriptions above", "predicted": probabilities.predicted[0],
                "classes": [{"name": names[j], "probability": float(row[j])} for j in order]}

    def align(self, image_id, text):
        """Karpathy exports: each word's best region on a gallery image (tfembed.app.alignment)."""
        if not is_alignment_model(self.model):
            raise UploadError("region-word alignment needs a Karpathy export (region and word "
                              "embeddings); this model embeds whole images and sentences")
        text = check_query(text)
        gallery = self.wait()
        row = gallery.row.get(image_id)
        found = self.picture(image_id)
        if row is not None and gallery.baked and np.ndim(gallery.embeddings) == 3:
            regions = np.asarray(gallery.embeddings[row], np.float32)  # what retrieve scored
            result = align(self.model, text, regions=regions)
        elif found is not None:
            result = align(self.model, text, image_bytes=found[0])
        else:
            raise UploadError(f"no picture for gallery id {image_id!r}", status=404)
        boxes = region_boxes(self.version_dir, result["regions"],
                             self.pictures.boxes.get(image_id) if row is not None else None)
        return {**result, "id": image_id, "boxes": boxes}

    def picture(self, image_id):
        return self.pictures.get(image_id)

