"""Losses, one technique per module, each a pure function over a score matrix + ids."""

from tfembed.losses.structured_joint import structured_joint_loss

LOSSES = {"ds_sje": structured_joint_loss, "da_sje": structured_joint_loss}

__all__ = ["structured_joint_loss", "LOSSES"]
