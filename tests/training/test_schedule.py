"""The epoch budget: given figures kept, automatic ones grow on small data sets."""

from edgecnn.training.schedule import MAX_AUTO_EPOCHS, MIN_EPOCHS, MIN_STEPS, plan_epochs


def test_large_sets_keep_the_floor():
    plan = plan_epochs(1257, 32, None, None)  # the digits training split
    assert plan.epochs == MIN_EPOCHS and plan.patience == 8 and plan.steps_per_epoch == 40


def test_small_sets_get_enough_steps_and_proportional_patience():
    plan = plan_epochs(148, 32, None, None)  # 5 batches per epoch
    assert plan.epochs == MIN_STEPS // 5 and plan.epochs * plan.steps_per_epoch >= MIN_STEPS
    assert plan.patience == plan.epochs // 8 and plan.automatic


def test_tiny_sets_stop_at_the_cap():
    assert plan_epochs(20, 32, None, None).epochs == MAX_AUTO_EPOCHS


def test_given_figures_win():
    plan = plan_epochs(148, 32, 3, 2)
    assert (plan.epochs, plan.patience, plan.automatic) == (3, 2, False)
    assert plan_epochs(148, 32, 100, None).patience == 12
