"""`tfembed caption`: run an exported captioner's `generate` signature on image files."""

import os

from tfembed.errors import ConfigError, DataError


def resolve_version(model_dir):
    """A SavedModel directory, or the newest numbered version under an export directory."""
    if os.path.exists(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    versions = sorted(int(d) for d in os.listdir(model_dir) if d.isdigit()) \
        if os.path.isdir(model_dir) else []
    if not versions:
        raise DataError("no SavedModel (saved_model.pb) and no numbered version here", model_dir)
    return os.path.join(model_dir, str(versions[-1]))


def caption_images(model_dir, paths):
    """{path: caption} for encoded image files (JPEG / PNG / GIF / BMP)."""
    encoded = []
    for path in paths:
        if not os.path.isfile(path):
            raise DataError("image file not found", path)
        with open(path, "rb") as f:
            encoded.append(f.read())
    import tensorflow as tf

    version = resolve_version(model_dir)
    loaded = tf.saved_model.load(version)
    if "generate" not in loaded.signatures:
        raise ConfigError(f"{version} has no `generate` signature (not a captioning export); "
                          f"signatures: {sorted(loaded.signatures)}")
    generate = loaded.signatures["generate"]
    if "image" not in generate.structured_input_signature[1]:
        raise ConfigError(f"{version} captions image features, not image files "
                          f"(inputs: {sorted(generate.structured_input_signature[1])})")
    try:
        captions = generate(image=tf.constant(encoded))["caption"].numpy()
    except tf.errors.InvalidArgumentError as err:
        raise DataError(f"an image could not be decoded: {err.message.splitlines()[0]}",
                        paths[0] if len(paths) == 1 else ", ".join(paths)) from None
    return {p: c.decode("utf-8") for p, c in zip(paths, captions)}
