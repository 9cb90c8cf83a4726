import http.server
import io
import threading
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vk_core import fileio
from vk_core.fileio import BaseStorageBackend, get_file_backend, register_backend


def test_put_get_create_parents(tmp_path):
    path = tmp_path / "a" / "b" / "c.bin"
    fileio.put(b"\x00\x01", path)
    assert fileio.get(path) == b"\x00\x01"
    fileio.put_text("héllo", tmp_path / "t" / "x.txt")
    assert fileio.get_text(tmp_path / "t" / "x.txt") == "héllo"
    assert fileio.exists(path) and fileio.isfile(path) and not fileio.isdir(path)
    assert fileio.isdir(tmp_path / "a")
    with pytest.raises(TypeError, match="expected bytes"):
        fileio.put("text", tmp_path / "y.bin")


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        fileio.get(tmp_path / "nope.txt")


def test_list_dir_or_file(tmp_path):
    for rel in ["a.jpg", "b.png", "sub/c.jpg", "sub/deep/d.jpg", ".hidden"]:
        fileio.put(b"x", tmp_path / rel)
    assert sorted(fileio.list_dir_or_file(tmp_path, list_dir=False)) == ["a.jpg", "b.png"]
    assert sorted(fileio.list_dir_or_file(tmp_path, list_dir=False, suffix=".jpg", recursive=True)) == [
        "a.jpg",
        "sub/c.jpg",
        "sub/deep/d.jpg",
    ]
    assert sorted(fileio.list_dir_or_file(tmp_path, list_file=False, recursive=True)) == ["sub", "sub/deep"]
    with pytest.raises(TypeError, match="suffix must be None"):
        list(fileio.list_dir_or_file(tmp_path, suffix=".jpg"))


def test_remove_copy_join(tmp_path):
    src = tmp_path / "s.txt"
    fileio.put_text("1", src)
    (tmp_path / "d").mkdir()
    out = fileio.copyfile(src, tmp_path / "d")
    assert fileio.get_text(out) == "1"
    with pytest.raises(IsADirectoryError):
        fileio.remove(tmp_path / "d")
    fileio.remove(src)
    with pytest.raises(FileNotFoundError):
        fileio.remove(src)
    assert fileio.join_path(str(tmp_path), "x", "y") == str(tmp_path / "x" / "y")
    with fileio.get_local_path(out) as local:
        assert local == str(out)


@pytest.mark.parametrize("ext", ["json", "yaml", "yml", "pkl", "pickle"])
def test_load_dump_round_trip(tmp_path, ext):
    obj = {"a": [1, 2.5, "x"], "b": {"c": None}}
    path = tmp_path / f"obj.{ext}"
    fileio.dump(obj, path)
    assert fileio.load(path) == obj
    assert fileio.load(str(path)) == obj


def test_dump_to_string_and_file_objects():
    import numpy as np

    text = fileio.dump({"x": np.int64(3), "y": np.arange(2)}, file_format="json")
    assert text == '{"x": 3, "y": [0, 1]}'
    buf = io.StringIO()
    fileio.dump([1, 2], buf, file_format="yaml")
    buf.seek(0)
    assert fileio.load(buf, file_format="yaml") == [1, 2]
    with pytest.raises(ValueError, match="file_format is required"):
        fileio.dump(1)
    with pytest.raises(ValueError, match="unsupported file format 'txt'"):
        fileio.dump(1, file_format="txt")


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"could not parse .*bad.json as json"):
        fileio.load(bad)
    with pytest.raises(ValueError, match="cannot infer the file format"):
        fileio.load(tmp_path / "noext")


def test_list_and_dict_from_file(tmp_path):
    p = tmp_path / "l.txt"
    p.write_text("a\nb\nc\nd\n")
    assert fileio.list_from_file(p) == ["a", "b", "c", "d"]
    assert fileio.list_from_file(p, prefix="/", offset=1, max_num=2) == ["/b", "/c"]
    assert fileio.list_from_file(p, max_num=0) == ["a", "b", "c", "d"]
    d = tmp_path / "d.txt"
    d.write_text("1 cat\n2 dog house\n\n")
    assert fileio.dict_from_file(d, key_type=int) == {1: "cat", 2: ["dog", "house"]}
    d.write_text("x cat\n")
    with pytest.raises(ValueError, match=r"d.txt:1: key 'x' is not a int"):
        fileio.dict_from_file(d, key_type=int)
    d.write_text("lonely\n")
    with pytest.raises(ValueError, match=r"d.txt:1: expected 'key value"):
        fileio.dict_from_file(d)


def test_register_backend_by_prefix_and_name():
    store = {"mem://a": b"hi"}

    @register_backend("memtest", prefixes="mem")
    class MemBackend(BaseStorageBackend):
        def get(self, filepath):
            return store[str(filepath)]

    assert fileio.get("mem://a") == b"hi"
    assert fileio.get_text("mem://a") == "hi"
    assert isinstance(get_file_backend(backend_args={"backend": "memtest"}), MemBackend)
    with pytest.raises(NotImplementedError, match="MemBackend does not support put"):
        fileio.put(b"x", "mem://b")
    with pytest.raises(KeyError, match="already registered"):
        register_backend("memtest", type("Other", (BaseStorageBackend,), {}))
    with pytest.raises(KeyError, match="unknown file backend 'nope'"):
        get_file_backend("x", backend_args={"backend": "nope"})
    with pytest.raises(KeyError, match="no file backend handles the prefix 'zz'"):
        fileio.get("zz://x")
    with pytest.raises(TypeError, match="must subclass BaseStorageBackend"):
        register_backend("bad", int)


@pytest.fixture
def http_root(tmp_path):
    (tmp_path / "data.json").write_text('{"k": [1, 2]}')
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_backend_reads(http_root):
    url = f"{http_root}/data.json"
    assert fileio.get_text(url) == '{"k": [1, 2]}'
    assert fileio.load(url) == {"k": [1, 2]}
    assert fileio.exists(url) and not fileio.exists(f"{http_root}/missing.json")
    with fileio.get_local_path(url) as local:
        assert local.endswith(".json") and open(local).read() == '{"k": [1, 2]}'
    import os

    assert not os.path.exists(local)
    with pytest.raises(NotImplementedError, match="HTTPBackend does not support put"):
        fileio.put(b"x", url)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(obj=_json_values, fmt=st.sampled_from(["json", "yaml", "pickle"]))
def test_dump_load_round_trip_any_value(obj, fmt):
    text = fileio.dump(obj, file_format=fmt)
    buf = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    assert fileio.load(buf, file_format=fmt) == obj


def test_dataset_reads_annotations_through_backend_args(tmp_path):
    from vk_core.dataset import BaseDataset

    store = {"ann.json": b'{"metainfo": {"classes": ["a"]}, "data_list": [{"img_path": "x.jpg"}]}'}

    @register_backend("dictstore", force=True)
    class DictBackend(BaseStorageBackend):
        def get(self, filepath):
            return store[str(filepath)]

    ds = BaseDataset("ann.json", backend_args={"backend": "dictstore"})
    assert len(ds) == 1 and ds.metainfo["classes"] == ["a"]


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12), max_size=12
    ),
    offset=st.integers(0, 5),
    max_num=st.integers(-1, 6),
)
def test_list_from_file_slices_like_python(tmp_path_factory, lines, offset, max_num):
    path = tmp_path_factory.mktemp("lines") / "l.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    expected = lines[offset:]
    if max_num > 0:
        expected = expected[:max_num]
    assert fileio.list_from_file(path, prefix="p/", offset=offset, max_num=max_num) == ["p/" + x for x in expected]
