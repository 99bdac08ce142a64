"""``dir:`` reads the files ``train`` reads: ROOT/CLASS/FILE (labelled CLASS) and ROOT/FILE
(no label); deeper folders are read by neither."""

from edgecnn.core.preprocess import DataKind, Preprocessing
from edgecnn.device.io.audio import wav_files_in_order
from edgecnn.device.io.sources import ImageFolder
from tests.testkit import write_image


def test_dir_reads_class_folders_as_train_does_and_not_deeper(tmp_path, caplog):
    """train reads ROOT/CLASS/clip only; dir: did score ROOT/yes/extra/c.wav with truth
    'extra'. Both now read the same files: deeper folders are not read by either."""
    for name in ("yes/a.wav", "yes/extra/b.wav", "no/c.wav", "top.wav"):
        (tmp_path / "wav" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "wav" / name).write_bytes(b"")
    root = tmp_path / "wav"
    got = [p.relative_to(root).as_posix() for p in wav_files_in_order(root)]
    assert got == ["no/c.wav", "top.wav", "yes/a.wav"]
    assert "1 files in folders below the class folders are not read" in caplog.text  # said
    for name in ("cat/1.png", "cat/more/2.png", "dog/3.png"):
        write_image(tmp_path / "img" / name, size=(4, 4), mode="L")
    pre = Preprocessing(kind=DataKind.IMAGE, input_shape=(4, 4, 1))
    caplog.clear()
    assert [item.label for item in ImageFolder(tmp_path / "img", pre)] == ["cat", "dog"]
    assert "1 files in folders below the class folders are not read" in caplog.text
