"""What the app loads before it can answer: the gallery (an `--images` directory embedded
through the model, an index beside the export, or the export's baked-in gallery), the pictures
of its ids, and the names of the export's baked class prototypes (the classify form's
prefilled list)."""

import os

import numpy as np

from tfembed.app import pictures as pics
from tfembed.app.gallery import Gallery, embed_files
from tfembed.index.model_files import export_gallery, index_dir


def load_gallery(model, version_dir, images, metric, progress, notes):
    """(Gallery, Pictures); `notes` collects what the page should say about them."""
    if images:
        pictures = pics.from_files(images)
        ids = sorted(pictures.files)
        ids, embeddings = embed_files(model, version_dir, ids, [pictures.files[i] for i in ids],
                                      progress)
        return Gallery(ids, embeddings, metric, baked=False), pictures
    if os.path.isfile(os.path.join(index_dir(version_dir), "meta.json")):
        from tfembed import index
        found = index.load(index_dir(version_dir))  # `tfembed index build`'s index
        notes.append(f"gallery: the {found.meta['backend']} index in {index_dir(version_dir)}")
        gallery = Gallery(found.ids, found.vectors, found.metric, baked=False, index=found)
    else:
        ids, embeddings = baked_gallery(model, version_dir)
        gallery = Gallery(ids, embeddings, metric, baked=True)
    progress.total = progress.done = len(gallery)
    pictures = pics.Pictures()
    try:
        pictures = pics.from_run(version_dir, gallery.ids) or pictures
    except Exception as err:  # noqa: BLE001 - pictures are optional, the ids still show
        notes.append(f"no gallery pictures from the run's data ({err}); pass --images DIR")
    if not pictures.files and not pictures.arrays:
        notes.append("no pictures found for the gallery ids: pass --images DIR")
    return gallery, pictures


def baked_gallery(model, version_dir):
    """(ids, embeddings) through the API; over gRPC or REST (not reachable there) the
    export's own file."""
    try:
        ids, embeddings = model.gallery()
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids], embeddings
    except Exception:  # noqa: BLE001 - e.g. RemoteModel, RestModel: read assets.extra/gallery.npz
        ids, embeddings = export_gallery(version_dir)
        return [str(i) for i in ids], embeddings


def prototype_classes(info, version_dir):
    """Names of the export's baked class prototypes, all of them ([] when it has none).

    The export records them in assets.extra/tfembed.json (newer exports); otherwise the run
    bundle beside the export has them (exportable/baked.npz)."""
    if info.get("image_input") != "image":
        return []
    if info.get("prototype_names"):
        return [str(n) for n in info["prototype_names"]]
    run = pics.run_config_path(version_dir)
    baked = os.path.join(os.path.dirname(run or ""), "exportable", "baked.npz")
    if run and os.path.isfile(baked):
        with np.load(baked, allow_pickle=False) as data:
            if "prototype_names" in data:
                return [str(n) for n in data["prototype_names"]]
    return []
