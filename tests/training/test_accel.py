"""Which devices training uses, and why not a GPU: what TensorFlow printed while it looked for
one is captured (not muted) and shown when no GPU is visible on a machine that has one or
whose CUDA libraries failed, while a plain CPU machine starts quietly. And the several-device
path (MirroredStrategy) really trains, on two logical CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from edgecnn.training import accel, tfdeps
from edgecnn.training.data.synthetic import make_easy_images
from tests.testkit import assert_learned

SEED = 0  # the smoke training's; seeds 0-2 were each run three times without a failure

# What TensorFlow 2.21 prints on a machine without a GPU or CUDA driver (captured here).
PLAIN_CPU = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796092706.575456    5065 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1796092706.730263    5065 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
E0000 00:00:1796092717.798561    5065 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)
"""  # noqa: E501

# A machine with an NVIDIA GPU and driver, where cuDNN is missing.
BROKEN_CUDA = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
W0000 00:00:1796092706.575456    5065 dso_loader.cc:64] Could not load dynamic library 'libcudnn.so.9'; dlerror: libcudnn.so.9: cannot open shared object file: No such file or directory
W0000 00:00:1796092706.575457    5065 gpu_device.cc:2344] Cannot dlopen some GPU libraries. Please make sure the missing libraries mentioned above are installed properly if you would like to use GPU.
Skipping registering GPU devices...
"""  # noqa: E501


def test_a_plain_cpu_machine_gets_no_gpu_report():
    assert accel.gpu_problems(PLAIN_CPU, nvidia_present=False) == ()
    assert accel.gpu_problems("", nvidia_present=False) == ()


def test_cuda_load_failures_are_reported_without_the_log_prefixes():
    lines = accel.gpu_problems(BROKEN_CUDA, nvidia_present=False)
    assert lines[0] == (
        "Could not load dynamic library 'libcudnn.so.9'; dlerror: libcudnn.so.9: cannot open "
        "shared object file: No such file or directory"
    )
    assert lines[1].startswith("Cannot dlopen some GPU libraries")
    assert lines[2] == "Skipping registering GPU devices..."
    assert not any("absl" in line for line in lines)


def test_with_an_nvidia_gpu_present_even_the_missing_driver_lines_matter():
    lines = accel.gpu_problems(PLAIN_CPU, nvidia_present=True)
    assert lines == (
        "Could not find cuda drivers on your machine, GPU will not be used.",
        "failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    )
    (hint,) = accel.gpu_problems("", nvidia_present=True)
    assert "NVIDIA GPU" in hint and "TF_CPP_MIN_LOG_LEVEL=0" in hint


def test_find_devices_says_what_tensorflow_reported(monkeypatch):
    monkeypatch.setattr(tfdeps, "startup_log", lambda: BROKEN_CUDA)
    monkeypatch.setattr(accel, "nvidia_present", lambda: True)
    found = accel.find_devices()
    assert found.gpus == () and found.problems[0].startswith("Could not load dynamic library")
    lines = found.log_lines()
    assert lines[0] == "training on the CPU (no GPU visible; TensorFlow reported why:)"
    assert lines[1] == "  Could not load dynamic library 'libcudnn.so.9'; " + (
        "dlerror: libcudnn.so.9: cannot open shared object file: No such file or directory"
    )
    monkeypatch.setattr(tfdeps, "startup_log", lambda: PLAIN_CPU)
    monkeypatch.setattr(accel, "nvidia_present", lambda: False)
    assert accel.find_devices().log_lines() == ("training on the CPU (no GPU visible)",)


def run_python(code: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": os.getcwd()}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user starts it
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


@pytest.mark.slow
def test_tensorflow_start_up_is_captured_not_printed():
    proc = run_python(
        """
        import json
        from edgecnn.training import tfdeps
        tf = tfdeps.tensorflow()
        print(json.dumps({"log": tfdeps.startup_log(), "cuda": tf.test.is_built_with_cuda()}))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the start-up chatter is kept, not shown
    found = json.loads(proc.stdout)
    # A CUDA build of TensorFlow always says something about CUDA while listing devices.
    assert "cuda" in found["log"].lower() or not found["cuda"]


@pytest.mark.slow
def test_two_devices_train_through_mirrored_strategy(tmp_path):
    """Two logical CPU devices stand in for two GPUs: edgecnn's own selection must pick
    MirroredStrategy over both, and three epochs must learn (the loss falls, the training
    accuracy beats chance on the two classes) and write a complete run."""
    data = make_easy_images(tmp_path / "easy.npz")
    proc = run_python(
        f"""
        import json
        from edgecnn.training import accel, tfdeps
        tf = tfdeps.tensorflow()
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        accel.ACCELERATOR = "CPU"  # the two logical CPUs play the GPUs
        from edgecnn.training.train import train
        from edgecnn.training.trainconfig import TrainConfig
        config = TrainConfig(data={str(data)!r}, model="lenet5", epochs=3, batch_size=8,
                             lr=0.01, seed={SEED})  # 21 steps that separate the classes
        result = train(config, out={str(tmp_path / "run")!r}, log=lambda line: None)
        print(json.dumps(result.to_dict()))
        """
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "2 CPU device(s)" in result["devices"] and "MirroredStrategy" in result["devices"]
    assert result["epochs_run"] == 3 and 0 <= result["test_accuracy"] <= 1
    report = json.loads((tmp_path / "run" / "train.json").read_text())
    assert report["devices"] == result["devices"] and (tmp_path / "run" / "model.keras").is_file()
    history = report["history"]  # it really trained, on both devices
    assert_learned(history["loss"], history["accuracy"][-1], classes=2)
