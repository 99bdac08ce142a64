import numpy as np
import pytest

from edgecnn.core.errors import DataError
from edgecnn.core.preprocess import DataKind
from edgecnn.training.data.sources import DataOptions, load_data
from tests.testkit import write_image


def test_image_folder_resizes_to_input_shape(image_folder):
    ds = load_data(str(image_folder), DataOptions(input_shape=(8, 8, 3)))
    assert ds.x.shape == (10, 8, 8, 3) and ds.x.dtype == np.uint8
    assert ds.labels == ("cat", "dog")
    assert ds.kind == DataKind.IMAGE and ds.scale == pytest.approx(1 / 255)
    assert list(np.bincount(ds.y)) == [5, 5]


def test_image_folder_grayscale_and_inferred_shape(image_folder):
    gray = load_data(str(image_folder), DataOptions(input_shape=(6, 7, 1)))
    assert gray.x.shape == (10, 6, 7, 1)
    inferred = load_data(str(image_folder))
    assert inferred.x.shape == (10, 10, 12, 3)  # first image: 12 wide, 10 high, RGB


@pytest.mark.parametrize(
    "breakage, message",
    [
        ("empty_class", "has no images"),
        ("text_file", "not an image file"),
        ("corrupt", "could not be read as an image"),
        ("one_class", "class folder"),
    ],
)
def test_image_folder_bad_input(tmp_path, breakage, message):
    root = tmp_path / "imgs"
    write_image(root / "a" / "0.png")
    if breakage != "one_class":
        write_image(root / "b" / "0.png", value=1)
    if breakage == "empty_class":
        (root / "c").mkdir()
    elif breakage == "text_file":
        (root / "a" / "notes.txt").write_text("hello")
    elif breakage == "corrupt":
        (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(DataError, match=message):
        load_data(str(root))


def test_image_folder_wrong_channels(image_folder):
    with pytest.raises(DataError, match="HxWx1"):
        load_data(str(image_folder), DataOptions(input_shape=(8, 8, 2)))


def test_hidden_files_are_ignored(image_folder):
    (image_folder / "cat" / ".DS_Store").write_bytes(b"junk")
    assert len(load_data(str(image_folder)).x) == 10


def test_npz_with_names_and_labels(tmp_path):
    path = tmp_path / "a.npz"
    x = np.random.default_rng(0).normal(size=(12, 16, 2)).astype(np.float32)
    np.savez(path, x=x, y=np.array(["on", "off"] * 6))
    ds = load_data(str(path))
    assert ds.labels == ("off", "on") and ds.kind == DataKind.ARRAY
    np.savez(path, x=x, y=np.array([0, 1] * 6), labels=np.array(["no", "yes"]))
    assert load_data(str(path)).labels == ("no", "yes")


def test_npz_uint8_images_get_a_channel_axis(tmp_path):
    path = tmp_path / "img.npz"
    np.savez(path, x=np.zeros((6, 8, 8), np.uint8), y=np.array([0, 1] * 3))
    ds = load_data(str(path))
    assert ds.kind == DataKind.IMAGE and ds.sample_shape == (8, 8, 1)


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((4, 3))}, "no array 'y'"),
        ({"x": np.full((4, 3), np.nan), "y": np.array([0, 1, 0, 1])}, "NaN or inf"),
        ({"x": np.zeros((4, 3)), "y": np.zeros(4, int)}, "only one class"),
        ({"x": np.zeros((4, 3)), "y": np.array([0, 1, 0])}, "4 samples but 3 labels"),
        (
            {"x": np.zeros((4, 3)), "y": np.array([0, 1, 2, 3]), "labels": np.array(["a"])},
            "labels names 1",
        ),
    ],
)
def test_npz_bad_input(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        load_data(str(path))


def test_truncated_npz(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, x=np.zeros((40, 30)), y=np.arange(40) % 2)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="not a readable .npz"):
        load_data(str(path))


def test_builtin_digits():
    ds = load_data("builtin:digits")
    assert ds.x.shape == (1797, 8, 8, 1) and len(ds.labels) == 10
    assert ds.x.max() == 16 and ds.scale == pytest.approx(1 / 16)


@pytest.mark.parametrize(
    "source, message",
    [("builtin:mnist", "unknown builtin"), ("nope/", "does not exist"), ("x.txt", "unknown type")],
)
def test_unknown_sources(tmp_path, monkeypatch, source, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DataError, match=message):
        load_data(source)


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        load_data(str(tmp_path / "e.csv"))
