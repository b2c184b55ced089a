"""Losses, one technique per module, each a pure function with the paper's equation in its
docstring. The registry that recipes name (model.task) is tfembed.tasks.TASKS."""

from tfembed.losses.structured_joint import structured_joint_loss

__all__ = ["structured_joint_loss"]
