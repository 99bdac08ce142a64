"""``edgecnn quantize`` into a run folder it cannot write: one line naming the folder, before
any conversion."""

import errno
import tempfile

from click.testing import CliRunner

from edgecnn.cli import cli


def test_a_read_only_run_folder_is_one_line_naming_it(tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("model.keras", "train.json", "run.json"):
        (run / name).write_text("")
    run.chmod(0o555)
    real_mkstemp = tempfile.mkstemp

    def read_only(*args, dir=None, **kwargs):  # what the OS says to a non-root user
        if dir is not None and str(dir).startswith(str(run)):
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real_mkstemp(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    try:
        result = CliRunner().invoke(cli, ["quantize", str(run), "--mode", "int8"])
    finally:
        run.chmod(0o755)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stderr.count("\n") == 1
    assert f"cannot write in {run} (permission denied)" in result.stderr
