"""`tfembed caption`: run an exported captioner's `generate` signature on image files."""

from tfembed.errors import ConfigError, DataError
from tfembed.export.versions import load_saved_model, read_image_files, resolve_version


def caption_images(model_dir, paths):
    """{path: caption} for encoded image files (JPEG / PNG / GIF / BMP)."""
    encoded = read_image_files(paths)
    import tensorflow as tf

    version = resolve_version(model_dir)
    loaded = load_saved_model(version)
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
