"""Gallery indexes outside the graph (faiss, hnswlib, brute force) for large galleries."""

from tfembed.index.gallery_index import GalleryIndex, build, load  # noqa: F401
