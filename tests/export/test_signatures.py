"""tfembed.export.signatures is the one place the export/serving protocol's names are spelled.

(1) A real export has exactly the signature, input and output names declared there.
(2) No module of the exporter, serving, index or benchmarks spells a signature name again as a
    string literal (docstrings may mention them): a rename cannot leave one of them behind.
"""

import ast
import pathlib

import numpy as np
import pytest

from tfembed.export import signatures as sig

REPO = pathlib.Path(__file__).resolve().parents[2]
FEATURE_DIM, DIM, GALLERY, CLASSES, K = 6, 4, 5, 3, 2

SIGNATURES = {sig.EMBED_TEXT, sig.EMBED_IMAGE, sig.CLASSIFY, sig.CLASSIFY_PROTOTYPES,
              sig.RETRIEVE, sig.RETRIEVE_IMAGE_TEXT, sig.SERVING_DEFAULT}
INPUTS = {sig.TEXT, sig.IMAGE, sig.FEATURES, sig.CLASS_TEXTS}
OUTPUTS = {sig.EMBEDDING, sig.SCORES, sig.CLASSES, sig.IDS}


def _contract(image):
    """{signature: (input names, output names)} for an export whose image input is `image`."""
    return {
        sig.EMBED_IMAGE: ({image}, {sig.EMBEDDING}),
        sig.EMBED_TEXT: ({sig.TEXT}, {sig.EMBEDDING}),
        sig.SERVING_DEFAULT: ({sig.TEXT}, {sig.EMBEDDING}),
        sig.CLASSIFY: ({image, sig.CLASS_TEXTS}, {sig.SCORES}),
        sig.CLASSIFY_PROTOTYPES: ({image}, {sig.SCORES, sig.CLASSES}),
        sig.RETRIEVE: ({sig.TEXT}, {sig.IDS, sig.SCORES}),
        sig.RETRIEVE_IMAGE_TEXT: ({image, sig.TEXT}, {sig.IDS, sig.SCORES}),
    }


def test_the_module_declares_these_names_and_no_others():
    declared = {name: value for name, value in vars(sig).items()
                if name.isupper() and isinstance(value, str)}
    assert set(declared.values()) == SIGNATURES | INPUTS | OUTPUTS
    assert len(set(declared.values())) == len(declared)  # no name declared twice
    assert set(sig.TEXT_INPUTS) == {sig.TEXT, sig.CLASS_TEXTS}
    assert set(sig.UNBATCHED_INPUTS) == {sig.CLASS_TEXTS}


def _spec(image_kind):
    """A tiny ServingSpec: a Dense image tower over features (or over 4x4 decoded pixels), a
    hashed-embedding text tower, baked-in prototypes and gallery, and Gordo's (V+T) query as a
    recipe endpoint (the exporter passes recipe endpoints through under their own names)."""
    import keras
    import tensorflow as tf

    from tfembed import scorers
    from tfembed.export import exporter

    keras.utils.set_random_seed(0)
    if image_kind == "features":
        image_model = keras.Sequential([keras.Input((FEATURE_DIM,)), keras.layers.Dense(DIM)])
        image_spec = tf.TensorSpec([None, FEATURE_DIM], tf.float32, name=sig.FEATURES)
    else:
        image_model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Flatten(),
                                        keras.layers.Dense(DIM)])
        image_spec = tf.TensorSpec([None], tf.string, name=sig.IMAGE)
    hashing, table = keras.layers.Hashing(31), keras.layers.Embedding(31, DIM)

    def text_fn(text):
        return table(hashing(text))
    text_fn(tf.constant(["build"]))
    rng = np.random.default_rng(0)
    gallery_ids = [f"img-{i}" for i in range(GALLERY)]
    gallery = rng.normal(size=(GALLERY, DIM)).astype("f4")
    store = tf.Module()
    store.ids = tf.Variable(np.asarray(gallery_ids, dtype=object), trainable=False)
    store.embeddings = tf.Variable(gallery, trainable=False)
    def image_fn(x):
        return image_model(x)

    def retrieve_image_text(image, text):
        embedded = image
        if image_kind == "pixels":
            embedded = exporter._decode_batch(image, (4, 4))
        query = image_fn(embedded) + text_fn(text)
        top = tf.math.top_k(tf.matmul(query, store.embeddings, transpose_b=True), k=K)
        return {sig.IDS: tf.gather(store.ids, top.indices), sig.SCORES: top.values}

    spec = exporter.ServingSpec(
        track=[image_model, hashing, table, store], image_fn=image_fn, score_fn=scorers.dot,
        image_kind=image_kind, image_size=(4, 4) if image_kind == "pixels" else None,
        feature_dim=FEATURE_DIM if image_kind == "features" else None, text_fn=text_fn,
        prototypes=([f"class-{i}" for i in range(CLASSES)],
                    rng.normal(size=(CLASSES, DIM)).astype("f4")),
        gallery=(gallery_ids, gallery), k=K, metric="dot",
        endpoints=[(sig.RETRIEVE_IMAGE_TEXT, retrieve_image_text,
                    [image_spec, tf.TensorSpec([None], tf.string, name=sig.TEXT)])])
    example = (tf.io.encode_png(tf.zeros([8, 8, 3], tf.uint8)).numpy()
               if image_kind == "pixels" else None)
    return spec, exporter.warmup_requests(spec, example, ["a red bird", "blue wings"])


@pytest.fixture(scope="module", params=["features", "pixels"])
def exported(request, tmp_path_factory):
    from tfembed.export import exporter
    from tfembed.export.versions import load_saved_model

    spec, warmup = _spec(request.param)
    base = str(tmp_path_factory.mktemp("export") / "export")
    path = exporter.export(spec, base, model_name="m", warmup=warmup)
    image = sig.FEATURES if request.param == "features" else sig.IMAGE
    return image, load_saved_model(path).signatures, warmup


def test_export_has_exactly_the_declared_signatures(exported):
    _, signatures, _ = exported
    assert set(signatures) == SIGNATURES


def test_export_inputs_and_outputs_are_the_declared_names(exported):
    image, signatures, _ = exported
    for name, (inputs, outputs) in _contract(image).items():
        fn = signatures[name]
        args, kwargs = fn.structured_input_signature
        assert not args, name
        assert set(kwargs) == inputs, name
        assert {spec.name for spec in kwargs.values()} == inputs, name  # the graph's names too
        assert set(fn.structured_outputs) == outputs, name
        assert set(kwargs) <= INPUTS and set(fn.structured_outputs) <= OUTPUTS


def test_warmup_requests_use_the_declared_names(exported):
    image, signatures, warmup = exported
    contract = _contract(image)
    assert {name for name, _ in warmup} == SIGNATURES - {sig.SERVING_DEFAULT,
                                                         sig.RETRIEVE_IMAGE_TEXT}
    for name, inputs in warmup:
        assert set(inputs) == contract[name][0], name


# (2) No second spelling of a signature name in the modules that must import them.

GUARDED = ("tfembed/serving", "tfembed/index", "tfembed/export", "benchmarks")
DECLARATIONS = REPO / "tfembed" / "export" / "signatures.py"
SPELLED_ONCE = {"embed_text", "embed_image", "classify_prototypes", "retrieve_image_text"}


def _docstrings(tree):
    """The Constant nodes that are docstrings (module, class, function)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                out.add(id(body[0].value))
    return out


def literal_signature_names(source, filename="<source>"):
    """[(line, name)] of string constants (not docstrings) that are a signature name."""
    tree = ast.parse(source, filename)
    docstrings = _docstrings(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and node.value in SPELLED_ONCE and id(node) not in docstrings)


def _guarded_files():
    files = sorted(p for d in GUARDED for p in (REPO / d).rglob("*.py"))
    return [p for p in files if p != DECLARATIONS]


def test_the_check_finds_a_literal_and_allows_docstrings():
    source = ('"""embed_text"""\n'
              'def f():\n    """embed_image"""\n    return {"embed_text": 1}\n'
              'X = ("retrieve_image_text", f"{1}", "classify_prototypes ok")\n')
    assert literal_signature_names(source) == [(4, "embed_text"), (5, "retrieve_image_text")]


def test_no_module_spells_a_signature_name_again():
    files = _guarded_files()
    assert any(p.name == "exporter.py" for p in files)
    assert any(p.name == "client.py" for p in files)
    found = [f"{p.relative_to(REPO)}:{line}: {name!r}" for p in files
             for line, name in literal_signature_names(p.read_text(encoding="utf-8"), str(p))]
    assert not found, ("signature names are declared once in tfembed/export/signatures.py; "
                       "import them instead of spelling them:\n" + "\n".join(found))
