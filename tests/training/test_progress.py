"""Training progress: click's bar on a terminal, one line per epoch in a log."""

import io

from edgecnn.training.callbacks import StderrProgress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_two_epochs(stream):
    progress = StderrProgress(epochs=2, steps=3, stream=stream)
    for epoch in range(2):
        progress.on_epoch_begin(epoch)
        for batch in range(3):
            progress.on_train_batch_end(batch)
        progress.on_epoch_end(epoch, {"loss": 0.5, "learning_rate": 0.001})
    return stream.getvalue()


def test_a_log_gets_one_line_per_epoch_and_no_bar():
    lines = run_two_epochs(io.StringIO()).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2  loss 0.5000  ") and lines[0].endswith("s")
    assert "learning_rate" not in lines[0]


def test_a_terminal_gets_a_bar_per_epoch_then_the_line():
    text = run_two_epochs(Terminal())
    assert "\r" in text and "3/3" in text and "#" in text
    assert text.count("epoch 2/2  loss 0.5000") == 1
