"""Every signature, input and output name of an export, declared once. The exporter, the gRPC
client, the local server's validation, the index and the benchmarks import these, so a
rename cannot leave one of them behind (TF Serving matches them as plain strings)."""

# Signatures
EMBED_TEXT = "embed_text"  # text [N] strings -> embedding [N, D]
EMBED_IMAGE = "embed_image"  # image [N] encoded bytes (or features [N, F]) -> embedding
CLASSIFY = "classify"  # image + class_texts given at request time -> scores [N, C]
CLASSIFY_PROTOTYPES = "classify_prototypes"  # image -> scores, classes (baked-in prototypes)
RETRIEVE = "retrieve"  # text -> ids, scores of the top-k baked-in gallery images
RETRIEVE_IMAGE_TEXT = "retrieve_image_text"  # Gordo's (V+T) query: image + text -> ids, scores
SERVING_DEFAULT = "serving_default"  # = embed_text when the model has a text side

# Inputs
TEXT = "text"
IMAGE = "image"
FEATURES = "features"
CLASS_TEXTS = "class_texts"

# Outputs
EMBEDDING = "embedding"
SCORES = "scores"
CLASSES = "classes"
IDS = "ids"

TEXT_INPUTS = (TEXT, CLASS_TEXTS)  # UTF-8 strings
UNBATCHED_INPUTS = (CLASS_TEXTS,)  # dim 0 is the class list, not the request batch
