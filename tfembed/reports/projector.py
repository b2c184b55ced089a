"""The run's test embeddings in TensorBoard's Embedding Projector.

    tensorboard --logdir RUN_DIR/tensorboard        # PROJECTOR tab

A run's bundle (RUN_DIR/exportable/baked.npz, tfembed.export.run_bundle) holds the embeddings
an export bakes in: the test gallery (image ids + embeddings) and the class prototypes (names +
embeddings). They are written beside the training logs, in RUN_DIR/tensorboard/:
  projector.ckpt-1.*         a tf.train.Checkpoint of one tf.Variable per embedding set
  gallery_metadata.tsv       one row per gallery image: id and class (the id's folder, if any)
  prototype_metadata.tsv     one row per class prototype: its name
  gallery_sprite.png         the gallery's pictures, row-major, when the run's data has them
  projector_config.pbtxt     what TensorBoard reads
The pictures come from the run's recorded data configuration (tfembed.app.pictures), so no
data set is loaded here by hand. A small event file makes the directory a TensorBoard run.
"""

import math
import os

import numpy as np

SPRITE_MAX = 8192  # TensorBoard's sprite size limit, in pixels per side
THUMB = 64
# tf.train.Checkpoint(gallery=v) stores v under this key (TF2 object-based checkpoints).
TENSOR_NAME = "{}/.ATTRIBUTES/VARIABLE_VALUE"


def bundle_dirs(workdir, since=None):
    """Run directories under `workdir` (itself included) with an exportable bundle, newer
    than `since` (a time.time(); None: all). zhang2017 has one per semantic side's DEM."""
    found = []
    for root, dirs, files in os.walk(workdir):
        dirs[:] = [d for d in dirs if d not in ("export", "tensorboard", "trials", "tuner",
                                                "checkpoints")]
        baked = os.path.join(root, "exportable", "baked.npz")
        if os.path.isfile(baked) and (since is None or os.path.getmtime(baked) >= since):
            found.append(root)
    return sorted(found)


def _tsv(value):
    return str(value).replace("\t", " ").replace("\n", " ")


def _thumbnail(picture, size):
    from PIL import Image

    if picture is None:
        return np.full((size, size, 3), 128, np.uint8)  # grey: no picture for this id
    if isinstance(picture, np.ndarray):
        image = Image.fromarray(np.asarray(np.clip(picture, 0, 255), np.uint8))
    else:
        image = Image.open(picture)
    return np.asarray(image.convert("RGB").resize((size, size)), np.uint8)


def sprite(pictures, size=THUMB):
    """pictures (array, file path or None each) -> (uint8 [S, S, 3] grid, thumbnail side)."""
    per_row = max(1, math.ceil(math.sqrt(len(pictures))))
    size = min(size, SPRITE_MAX // per_row)
    grid = np.zeros((per_row * size, per_row * size, 3), np.uint8)
    for i, picture in enumerate(pictures):
        r, c = divmod(i, per_row)
        grid[r * size:(r + 1) * size, c * size:(c + 1) * size] = _thumbnail(picture, size)
    return grid, size


def run_pictures(run_dir, ids):
    """[array | path | None] per id from the run's recorded data (None when it has none)."""
    from tfembed.app import pictures as pics

    # from_run finds <run>/config.json from an export version path <run>/export/<version>.
    found = pics.from_run(os.path.join(run_dir, "export", "projector"), ids)
    if found is None or not any(i in found for i in ids):
        return None
    return [found.arrays.get(i, found.files.get(i)) for i in ids]


def write(run_dir, log_dir=None, with_sprite=True):
    """Write the projector files of `run_dir`'s bundle; returns the log directory."""
    import tensorflow as tf
    from PIL import Image
    from tensorboard.plugins import projector

    log_dir = log_dir or os.path.join(run_dir, "tensorboard")
    os.makedirs(log_dir, exist_ok=True)
    baked = np.load(os.path.join(run_dir, "exportable", "baked.npz"))
    config, variables = projector.ProjectorConfig(), {}
    for what in ("gallery", "prototype"):
        if f"{what}_names" not in baked:
            continue
        names = [str(n) for n in baked[f"{what}_names"]]
        variables[what] = tf.Variable(baked[f"{what}_embeddings"].reshape(len(names), -1),
                                      name=what)
        embedding = config.embeddings.add()
        embedding.tensor_name = TENSOR_NAME.format(what)
        embedding.metadata_path = f"{what}_metadata.tsv"
        with open(os.path.join(log_dir, embedding.metadata_path), "w") as f:
            if what == "gallery":  # a column header is allowed only with 2+ columns
                f.write("id\tclass\n")
                f.writelines(f"{_tsv(n)}\t{_tsv(n.rsplit('/', 1)[0] if '/' in n else n)}\n"
                             for n in names)
            else:
                f.writelines(f"{_tsv(n)}\n" for n in names)
        shown = run_pictures(run_dir, names) if what == "gallery" and with_sprite else None
        if shown is not None:
            grid, size = sprite(shown)
            Image.fromarray(grid).save(os.path.join(log_dir, "gallery_sprite.png"))
            embedding.sprite.image_path = "gallery_sprite.png"
            embedding.sprite.single_image_dim.extend([size, size])
    if not variables:
        raise ValueError(f"{run_dir}/exportable/baked.npz holds no gallery or prototypes")
    tf.train.Checkpoint(**variables).save(os.path.join(log_dir, "projector.ckpt"))
    projector.visualize_embeddings(log_dir, config)
    tf.summary.create_file_writer(log_dir).close()  # an event file: a run TensorBoard lists
    return log_dir
