"""What a finished run keeps so `tfembed export RUN_DIR` can publish it again without the data
set: the trained model (Keras format: towers, scorer, task config, weights), the fitted text
preprocessor, and the arrays baked into an export (gallery, prototypes) with the image input.

    RUN_DIR/exportable/model.keras             JointEmbedding.save (custom layers registered)
    RUN_DIR/exportable/text_preprocessor.json  TextPreprocessor.save (absent: no text side)
    RUN_DIR/exportable/baked.npz               gallery_ids/_embeddings, prototype_names/_embeddings
    RUN_DIR/exportable/export.json             image input, k, model name, example texts
    RUN_DIR/exportable/image_tower.keras       optional: served input -> image embedding when
                                               the model's image tower does not start from it
                                               (e.g. regions cut in the graph, a frozen CNN)

Written with the results (after the best-on-val weights are loaded), replaced atomically
(a new directory, then a rename), so a crash leaves the previous bundle or none.
"""

import importlib
import json
import os
import shutil
import uuid

import numpy as np

from tfembed.errors import ConfigError

DIRNAME = "exportable"
# Modules whose Keras layers are registered serialisable: imported before a model is loaded.
LAYER_MODULES = ("tfembed.models", "tfembed.text", "tfembed.towers.text",
                 "tfembed.towers.backbones", "tfembed.towers.fisher_vector",
                 "tfembed.layers.pooling", "tfembed.layers.elementwise",
                 "tfembed.towers.regions", "tfembed.towers.word_sequence")


def save(run_dir, model, image_input, preprocessor=None, gallery=None, prototypes=None, k=10,
         model_name="tfembed", example_texts=(), endpoints=(), image_tower=None):
    """endpoints: names of model_export.NAMED_ENDPOINTS the export adds (e.g.
    retrieve_image_text). image_tower: a Keras model from the served image input to the
    image embedding, exported as image_fn (None: the model's own image tower). The modules
    defining the model's non-Keras layers are recorded and imported before loading, so their
    registered classes are known."""
    final = os.path.join(run_dir, DIRNAME)
    tmp = os.path.join(run_dir, f".{DIRNAME}-{uuid.uuid4().hex[:8]}")
    os.makedirs(tmp)
    try:
        model.save(os.path.join(tmp, "model.keras"))
        if image_tower is not None:  # export_model's image_fn
            image_tower.save(os.path.join(tmp, "image_tower.keras"))
        if preprocessor is not None:
            preprocessor.save(tmp)
        arrays = {}
        for what, pair in (("gallery", gallery), ("prototype", prototypes)):
            if pair is not None:
                arrays[f"{what}_names"] = np.asarray([str(n) for n in pair[0]])
                arrays[f"{what}_embeddings"] = np.asarray(pair[1], np.float32)
        np.savez(os.path.join(tmp, "baked.npz"), **arrays)
        kind, size = image_input
        with open(os.path.join(tmp, "export.json"), "w") as f:
            json.dump({"image_input": [kind, list(size) if kind == "pixels" else int(size)],
                       "k": int(k), "model_name": model_name,
                       "example_texts": [str(t) for t in example_texts][:2],
                       "endpoints": [str(e) for e in endpoints],
                       "modules": layer_modules(model)}, f, indent=2)
        old = final + f".old-{uuid.uuid4().hex[:8]}"
        if os.path.exists(final):
            os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load(run_dir):
    """(model, preprocessor or None, keyword arguments of export_model)."""
    import keras

    from tfembed.text import TextPreprocessor

    root = os.path.join(run_dir, DIRNAME)
    if not os.path.exists(os.path.join(root, "model.keras")):
        raise ConfigError(f"{root}/model.keras not found: the run has not finished (a run "
                          f"writes its exportable model with its results), or it predates it")
    for module in LAYER_MODULES:  # registers the serialisable classes
        importlib.import_module(module)
    with open(os.path.join(root, "export.json")) as f:
        info = json.load(f)
    for module in info.get("modules", []):
        if not module.startswith("tfembed."):  # a bundle never names code outside tfembed
            raise ConfigError(f"{root}/export.json: layer module {module!r} is not part of "
                              f"tfembed; refusing to import it")
        importlib.import_module(module)
    model = keras.saving.load_model(os.path.join(root, "model.keras"), compile=False)
    preprocessor = (TextPreprocessor.load(root)
                    if os.path.exists(os.path.join(root, "text_preprocessor.json")) else None)
    extra = {}
    if os.path.exists(os.path.join(root, "image_tower.keras")):
        tower = keras.saving.load_model(os.path.join(root, "image_tower.keras"), compile=False)
        extra = {"image_fn": tower, "track": (tower,)}
    baked = np.load(os.path.join(root, "baked.npz"))
    pair = lambda w: ((list(baked[f"{w}_names"]), baked[f"{w}_embeddings"])  # noqa: E731
                      if f"{w}_names" in baked else None)
    kind, size = info["image_input"]
    return model, preprocessor, dict(
        image_input=(kind, tuple(size) if kind == "pixels" else size), gallery=pair("gallery"),
        prototypes=pair("prototype"), k=info["k"], model_name=info["model_name"],
        example_texts=info["example_texts"], endpoints=info.get("endpoints", []), **extra)


def layer_modules(model):
    """Modules of the model's layer classes that are not Keras' own (sorted)."""
    return sorted({type(layer).__module__ for layer in model._flatten_layers(include_self=True)
                   if not type(layer).__module__.startswith("keras.")})


def export_run(run_dir, version=None):
    """Publish RUN_DIR's bundle as a new version under RUN_DIR/export/."""
    from tfembed.export.model_export import export_model

    model, preprocessor, kwargs = load(run_dir)
    return export_model(model, os.path.join(run_dir, "export"), preprocessor=preprocessor,
                        version=version, **kwargs)
