"""The one in-memory representation every data source returns."""

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass
class Dataset:
    """Images, texts, classes and splits of one data set.

    Exactly one of `images` (uint8 pixels, N x H x W x 3), `image_paths` (encoded files on disk)
    or `features` (N x D float32) is normally set; a source may set `image_paths` and
    `features` together. `labels[i]` indexes `class_names`; retrieval data sets without classes
    use one class per image. `splits` maps a split name ("train", "val", "trainval", "test",
    "test_seen", "test_unseen", ...) to sorted int64 row indices into the image arrays.
    """

    name: str
    image_ids: list
    labels: np.ndarray
    class_names: list
    texts: list  # texts[i]: list of descriptions/captions of image i (may be empty)
    splits: dict
    images: Optional[np.ndarray] = None
    image_paths: Optional[list] = None
    features: Optional[np.ndarray] = None
    class_attributes: Optional[np.ndarray] = None  # C x A, float32
    attribute_names: Optional[list] = None
    class_embeddings: dict = dataclasses.field(default_factory=dict)  # name -> C x D
    boxes: Optional[list] = None  # boxes[i]: K_i x 4 float32 (y0, x0, y1, x1) in [0, 1]
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.splits = {k: np.asarray(sorted(v), dtype=np.int64) for k, v in self.splits.items()}

    @property
    def num_images(self):
        return len(self.image_ids)

    @property
    def num_classes(self):
        return len(self.class_names)

    def split_classes(self, split):
        """Sorted class indices present in a split."""
        return np.unique(self.labels[self.splits[split]])

    def subset(self, rows):
        """A new Dataset with only the given image rows (class list unchanged)."""
        rows = np.asarray(rows, dtype=np.int64)
        position = {int(r): i for i, r in enumerate(rows)}

        def pick(seq):
            return None if seq is None else [seq[int(r)] for r in rows]

        splits = {k: [position[int(r)] for r in v if int(r) in position]
                  for k, v in self.splits.items()}
        return dataclasses.replace(
            self,
            image_ids=pick(self.image_ids),
            labels=self.labels[rows],
            texts=pick(self.texts),
            splits=splits,
            images=None if self.images is None else self.images[rows],
            image_paths=pick(self.image_paths),
            features=None if self.features is None else self.features[rows],
            boxes=pick(self.boxes),
        )

    def stats(self):
        """JSON-able summary: counts of images, classes, texts and per-split classes."""
        n_texts = sum(len(t) for t in self.texts)
        out = {
            "name": self.name,
            "images": self.num_images,
            "classes": self.num_classes,
            "texts": n_texts,
            "texts_per_image": round(n_texts / max(self.num_images, 1), 3),
            "image_source": ("pixels" if self.images is not None
                             else "files" if self.image_paths is not None
                             else "features" if self.features is not None else "none"),
            "splits": {k: {"images": int(len(v)),
                           "classes": int(len(np.unique(self.labels[v]))) if len(v) else 0}
                       for k, v in sorted(self.splits.items())},
        }
        if self.features is not None:
            out["feature_dim"] = int(self.features.shape[1])
        if self.class_attributes is not None:
            out["attribute_dim"] = int(self.class_attributes.shape[1])
        for key, emb in sorted(self.class_embeddings.items()):
            out[f"class_embedding_dim/{key}"] = int(emb.shape[1])
        if self.boxes is not None:
            out["boxes"] = int(sum(len(b) for b in self.boxes))
        return out
