"""Fault injection into training (issue 14, items 4 and 5): a non-finite loss or update stops
the Trainer with an error naming the step and keeps the last finite checkpoint; an unreadable
checkpoint state file or truncated checkpoint files fall back to the newest intact checkpoint,
naming the bad file, and never start over the good ones."""

import numpy as np
import pytest


def ckpt_names(workdir):
    return sorted(p.name for p in (workdir / "checkpoints").iterdir() if p.name.startswith("ckpt-"))


def assert_finite_checkpoint(prefix):
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(prefix))
    for key in reader.get_variable_to_shape_map():
        if not key.startswith(("model/", "optimizer/")):  # e.g. best = -inf before any eval
            continue
        value = reader.get_tensor(key)
        if np.asarray(value).dtype.kind == "f":
            assert np.all(np.isfinite(value)), key


# --- item 4: NaN / Inf -------------------------------------------------------------------

def test_nan_loss_stops_naming_the_step_and_keeps_the_last_finite_checkpoint(tmp_path,
                                                                           toy_trainer):
    from tfembed.errors import TrainingError

    trainer, dataset_fn = toy_trainer(tmp_path, steps=8, x_at={5: np.nan})
    with pytest.raises(TrainingError) as err:
        trainer.fit(dataset_fn)
    message = str(err.value)
    assert "non-finite loss at step 5" in message
    assert "last finite loss was" in message and "at step 4" in message
    assert "ckpt-4" in message  # the checkpoint that is kept
    # Saved at 2 and 4; nothing at 6 (loss NaN since 5) nor 8.
    assert ckpt_names(tmp_path) == ["ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                    "ckpt-4.data-00000-of-00001", "ckpt-4.index"]
    assert_finite_checkpoint(tmp_path / "checkpoints" / "ckpt-4")


def test_inf_update_with_finite_loss_is_never_checkpointed(tmp_path, toy_trainer):
    """Step 4's loss is finite but its gradient is infinite: the weights saved at a checkpoint
    step would be -inf. The save refuses and the step-2 checkpoint stays the last one."""
    from tfembed.errors import TrainingError

    trainer, dataset_fn = toy_trainer(tmp_path, steps=8, g_at={4: np.inf})
    with pytest.raises(TrainingError, match="non-finite weights or optimizer state after step 4"):
        trainer.fit(dataset_fn)
    assert ckpt_names(tmp_path) == ["ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    assert_finite_checkpoint(tmp_path / "checkpoints" / "ckpt-2")


def test_huge_learning_rate_is_a_clear_recipe_error(tmp_path, capsys):
    from tfembed.recipe import run_recipe

    code = run_recipe("reed2016", ["--smoke", "--workdir", str(tmp_path),
                                   "--set", "train.learning_rate=1e30"])
    err = capsys.readouterr().err
    assert code == 2, err[-2000:]
    assert "reed2016: error: " in err and "non-finite" in err and "at step" in err
    assert not (tmp_path / "results.json").exists()
    for index in (tmp_path / "checkpoints").glob("ckpt-*.index"):
        assert_finite_checkpoint(str(index)[:-len(".index")])


# --- item 5: corrupt checkpoints ----------------------------------------------------------

@pytest.fixture
def trained(tmp_path, toy_trainer):
    """A run that stopped at step 4 with checkpoints 2 and 4; returns a resume(steps) helper."""
    trainer, dataset_fn = toy_trainer(tmp_path, steps=4)
    trainer.fit(dataset_fn)
    assert ckpt_names(tmp_path) == ["ckpt-2.data-00000-of-00001", "ckpt-2.index",
                                    "ckpt-4.data-00000-of-00001", "ckpt-4.index"]

    def resume(steps=6):
        trainer, dataset_fn = toy_trainer(tmp_path, steps=steps)
        return trainer.fit(dataset_fn)
    return resume


def _truncate(path, keep=20):
    path.write_bytes(path.read_bytes()[:keep])


def test_garbage_state_file_resumes_from_the_newest_checkpoint(tmp_path, trained, capsys):
    ckpt = tmp_path / "checkpoints"
    (ckpt / "checkpoint").write_text("this is not a checkpoint state {{{\n")
    intact = (ckpt / "ckpt-4.data-00000-of-00001").read_bytes()
    timing = trained(6)
    assert timing["resumed_from"] == 4 and timing["steps"] == 6  # not a silent restart at 0
    assert str(ckpt / "checkpoint") in capsys.readouterr().err
    assert (ckpt / "ckpt-4.data-00000-of-00001").read_bytes() == intact  # never overwritten
    assert "ckpt-6.index" in ckpt_names(tmp_path)


@pytest.mark.parametrize("bad_file", ["ckpt-4.data-00000-of-00001", "ckpt-4.index"])
def test_truncated_checkpoint_falls_back_naming_the_file(tmp_path, trained, capsys, bad_file):
    _truncate(tmp_path / "checkpoints" / bad_file)
    timing = trained(6)
    assert timing["resumed_from"] == 2 and timing["steps"] == 6
    err = capsys.readouterr().err
    assert bad_file in err and "ckpt-2" in err
    assert_finite_checkpoint(tmp_path / "checkpoints" / "ckpt-4")  # saved again, intact


def test_no_intact_checkpoint_is_an_error_not_a_restart(tmp_path, trained):
    from tfembed.errors import CheckpointError

    for name in ("ckpt-2.index", "ckpt-4.data-00000-of-00001"):
        _truncate(tmp_path / "checkpoints" / name)
    before = {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    with pytest.raises(CheckpointError, match="ckpt-2.index.*ckpt-4.data|ckpt-4.data.*ckpt-2.index"):
        trained(6)
    after = {p.name: p.read_bytes() for p in (tmp_path / "checkpoints").iterdir()}
    assert after == before


def test_restore_weights_for_export_uses_the_newest_intact_checkpoint(tmp_path, trained,
                                                                     toy_trainer, capsys):
    """`tfembed export RUN_DIR` restores through common.restore_weights."""
    import tensorflow as tf

    from tfembed.experiments import common

    reference, _ = toy_trainer(tmp_path / "ref", steps=1)
    tf.train.Checkpoint(model=reference.model).restore(
        str(tmp_path / "checkpoints" / "ckpt-2")).expect_partial()
    (tmp_path / "checkpoints" / "checkpoint").write_text("garbage")
    _truncate(tmp_path / "checkpoints" / "ckpt-4.data-00000-of-00001")
    model, _ = toy_trainer(tmp_path / "other", steps=1)
    common.restore_weights(model.model, str(tmp_path))
    np.testing.assert_array_equal(model.model.w.numpy(), reference.model.w.numpy())
    err = capsys.readouterr().err
    assert "ckpt-4.data-00000-of-00001" in err and "checkpoints/checkpoint" in err


def test_a_finished_run_rerun_evaluates_its_best_on_val_weights(tmp_path, toy_trainer):
    """Re-running a finished command (run_all's re-evaluation) must score the weights a full
    run scored: the best-on-val checkpoint, not the last step."""
    scores = iter([3.0, 1.0, 0.5])  # val is best at the first evaluation (step 2)
    kwargs = dict(eval_every=2, eval_fn=lambda m: {"acc": next(scores)}, select_metric="acc",
                  checkpoint_every=2)
    trainer, dataset_fn = toy_trainer(tmp_path, steps=6, **kwargs)
    first = trainer.fit(dataset_fn)
    best_w = trainer.model.w.numpy().copy()
    assert first["best_step"] == 2
    trainer, dataset_fn = toy_trainer(tmp_path, steps=6, **kwargs)
    again = trainer.fit(dataset_fn)
    assert again["resumed_from"] == 6 and again["best_step"] == 2
    np.testing.assert_array_equal(trainer.model.w.numpy(), best_w)
