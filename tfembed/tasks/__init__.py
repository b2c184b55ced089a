"""Tasks: every training loss of the library as a `keras.losses.Loss` over a score matrix.

A task is called as `task(y_true, y_pred)`:
  y_true: {"positive": [N, M] 0/1 mask built from ids (image id or class id == text id),
           "image_id": [N], "text_id": [M], plus task-specific extras (WARP's "candidates")}
  y_pred: {"scores": [N, M] scorer output, "text_scores": [M, M] (structure-preserving only)}
It returns per-row losses (or a scalar), which the model averages; `JointEmbedding`
gathers the replicas' batches first and scales the mean once (tfembed.models), so every task
sees the global batch and needs no distribution code. The equations live with the pure
functions in tfembed.losses, which these classes only adapt to the one interface.
"""

from tfembed.errors import ConfigError
from tfembed.tasks.ranking import BidirectionalRanking, StructurePreserving, Triplet
from tfembed.tasks.classification import HingeRank, StructuredJoint, Warp
from tfembed.tasks.regression import LeastSquares

TASKS = {
    "ds_sje": lambda **o: StructuredJoint(symmetric=True, **o),
    "da_sje": lambda **o: StructuredJoint(symmetric=False, **o),
    "least_squares": LeastSquares,
    "triplet": Triplet,
    "bidirectional_ranking": BidirectionalRanking,
    "structure_preserving": StructurePreserving,
    "warp": Warp,
    "hinge_rank": HingeRank,
}


def get(name, **options):
    """The task registered as `name` (model.task in a config) with its options."""
    if name not in TASKS:
        raise ConfigError(f"unknown task (model.task) {name!r}; known: {', '.join(TASKS)}")
    try:
        return TASKS[name](**options)
    except TypeError as err:
        raise ConfigError(f"model.task_options for {name!r}: {err}") from None


__all__ = ["TASKS", "get", "StructuredJoint", "LeastSquares", "Triplet", "BidirectionalRanking",
           "StructurePreserving", "Warp", "HingeRank"]
