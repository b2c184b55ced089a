"""`retrieve` answered from a gallery index saved beside the export (tfembed index build).

When `<version>/assets.extra/gallery_index/` exists, the server replaces the version's
in-graph brute-force `retrieve` with one that embeds the text through the model's own
`embed_text` signature and searches the index. Inputs and outputs keep the in-graph names
(`text` -> `ids`, `scores`), so clients do not change. An index rebuilt in place is picked up
on the next file-system poll without reloading the SavedModel.
"""

import os

import grpc
import numpy as np
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2

from tfembed.errors import TfembedError
from tfembed.export import signatures as sig
from tfembed.index import gallery_index
from tfembed.index.model_files import index_dir
from tfembed.serving.status import ServingError

NAME = sig.RETRIEVE


def index_stamp(version_path):
    """Changes whenever the index is rebuilt (its meta.json is written last, then renamed)."""
    try:
        st = os.stat(os.path.join(index_dir(version_path), gallery_index.META))
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ino


class IndexRetrieveSignature:
    def __init__(self, index, embed_text):
        self.name, self.index, self.embed_text = NAME, index, embed_text
        self.k = min(int(index.meta["k"]), len(index.ids))  # search never returns more
        self.inputs = {sig.TEXT: (types_pb2.DT_STRING, [None])}
        self.outputs = {sig.IDS: (types_pb2.DT_STRING, [None, self.k]),
                        sig.SCORES: (types_pb2.DT_FLOAT, [None, self.k])}
        self.batchable = True

    def run(self, arrays):
        embeddings = self.embed_text.run(arrays)[sig.EMBEDDING]
        try:
            ids, scores = self.index.search(embeddings.reshape(len(embeddings), -1))
        except TfembedError as err:  # e.g. the index was built from another model
            raise ServingError(grpc.StatusCode.FAILED_PRECONDITION,
                               f"signature '{NAME}' (gallery index): {err}") from None
        ids = np.asarray([[i.encode("utf-8") for i in row] for row in ids], dtype=object)
        return {sig.IDS: ids, sig.SCORES: scores}

    def signature_def(self):
        sdef = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
        for group, specs in (("inputs", self.inputs), ("outputs", self.outputs)):
            for key, (dtype, shape) in specs.items():
                info = getattr(sdef, group)[key]
                info.name = f"gallery_index/{key}"
                info.dtype = dtype
                for size in shape:
                    info.tensor_shape.dim.add(size=-1 if size is None else size)
        return sdef


def attach_index(loaded):
    """Swap `retrieve` for the index-backed one if the version has an index; returns the stamp.

    Raises TfembedError for an unusable index, so the caller decides: refuse a new version, or
    keep the old index on a refresh.
    """
    stamp = index_stamp(loaded.path)
    if stamp is None:
        return None
    if sig.EMBED_TEXT not in loaded.signatures:
        raise TfembedError(f"{index_dir(loaded.path)}: a gallery index needs an embed_text "
                           f"signature to embed queries, and this model has none")
    index = gallery_index.load(index_dir(loaded.path))
    _, shape = loaded.signatures[sig.EMBED_TEXT].outputs.get(sig.EMBEDDING, (None, None))
    dim = int(np.prod(shape[1:])) if shape and all(shape[1:]) else None
    if dim is not None and dim != index.meta["dim"]:
        raise TfembedError(f"{index_dir(loaded.path)}: index vectors have dimension "
                           f"{index.meta['dim']} but embed_text gives {dim} (built from another "
                           f"model?)")
    signature = IndexRetrieveSignature(index, loaded.signatures[sig.EMBED_TEXT])
    # New objects swapped in whole: requests in flight keep the ones they already read.
    defs = type(loaded.signature_defs)()
    defs.CopyFrom(loaded.signature_defs)
    defs.signature_def[NAME].CopyFrom(signature.signature_def())
    loaded.signatures = dict(loaded.signatures, **{NAME: signature})
    loaded.signature_defs = defs
    return stamp

