"""Datasets: cheap specs, deterministic splits, user files with clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tensor_agent.errors import InputError
from tensor_agent.tools.train import BUILTIN_SPECS, dataset_spec, load_dataset


def test_dataset_spec_is_cheap():
    code = ("import sys; from tensor_agent.tools.train import dataset_spec, TrainConfig; "
            "s = dataset_spec('digits'); assert s['num_classes'] == 10, s; "
            "assert 'torch' not in sys.modules, 'torch imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout


@pytest.mark.parametrize("name", sorted(BUILTIN_SPECS))
def test_builtin_spec_fields(name):
    s = dataset_spec(name)
    assert {"modality", "task", "input_spec", "num_classes"} <= set(s)
    assert s["input_spec"]["kind"] in ("image", "tabular", "tokens", "graph")


def test_unknown_dataset_lists_known():
    with pytest.raises(InputError, match="known: digits"):
        dataset_spec("nonexistent_set")
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("nonexistent_set")


@pytest.mark.parametrize("name", ["digits", "iris", "wine", "breast_cancer"])
def test_sklearn_splits_are_deterministic(name):
    a, b, c = load_dataset(name, seed=0), load_dataset(name, seed=0), load_dataset(name, seed=1)
    assert a.sizes == b.sizes
    assert sum(a.sizes.values()) == len(a.train) + len(a.val) + len(a.test)
    assert (a.train.tensors[0] == b.train.tensors[0]).all()
    assert not (a.test.tensors[1].shape == c.test.tensors[1].shape and
                (a.test.tensors[0] == c.test.tensors[0]).all())
    assert list(a.train.tensors[0].shape[1:]) == a.input_spec["shape"]
    assert set(a.train.tensors[1].unique().tolist()) == set(range(a.num_classes))


def test_digits_shape_and_range():
    d = load_dataset("digits")
    x = d.train.tensors[0]
    assert tuple(x.shape[1:]) == (1, 8, 8) and float(x.min()) >= 0 and float(x.max()) <= 1
    assert d.sizes == {"train": 1257, "val": 180, "test": 360}


def test_long_recall_and_corpus_and_karate():
    s = load_dataset("long_recall", seq_len=32)
    x, y = s.train.tensors
    marker = s.meta["marker"]
    # the label is the token after the marker: the task is solvable and needs the whole sequence
    pos = (x == marker).float().argmax(1)
    assert (x[range(len(x)), pos + 1] == y).all()
    c = load_dataset("tiny_corpus")
    assert c.input_spec["vocab_size"] == len(c.meta["itos"]) and c.train.tensors[0].shape[1] == 64
    k = load_dataset("karate")
    assert int(k.train.sum()) == 4 and not (k.train & k.test).any() and k.meta["graph"].num_nodes == 34


def test_class_subset_for_transfer():
    d = load_dataset("digits", classes="5-9", train_per_class=3)
    assert d.num_classes == 5 and len(d.train) == 15
    assert set(d.test.tensors[1].tolist()) == set(range(5))
    assert d.meta["classes"] == ["5", "6", "7", "8", "9"]


# ---------------------------------------------------------------------------------------------- user files
def _csv(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_tabular_ok(tmp_path):
    rows = "\n".join(f"{i},{i % 3 * 1.5},{'a' if i % 2 else 'b'},{'yes' if i % 2 else 'no'}" for i in range(40))
    p = _csv(tmp_path, "x1,x2,cat,target\n" + rows)
    d = load_dataset(str(p), target_column="target")
    assert d.modality == "tabular" and d.num_classes == 2 and d.meta["classes"] == ["no", "yes"]
    assert d.input_spec["shape"] == [4]  # two numeric + two one-hot columns


def test_parquet_tabular(tmp_path):
    pd = pytest.importorskip("pandas")
    p = tmp_path / "t.parquet"
    pd.DataFrame({"a": range(30), "b": [i * 0.5 for i in range(30)], "y": [i % 2 for i in range(30)]}).to_parquet(p)
    d = load_dataset(str(p), target_column="y")
    assert d.num_classes == 2 and sum(d.sizes.values()) == 30


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_dataset(str(tmp_path / "nope.csv"), target_column="y")


def test_wrong_target_column(tmp_path):
    p = _csv(tmp_path, "a,b,label\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(20)))
    with pytest.raises(InputError, match=r"target column 'target' not found \(columns: a, b, label\)"):
        load_dataset(str(p), target_column="target")


def test_one_class(tmp_path):
    p = _csv(tmp_path, "a,y\n" + "\n".join(f"{i},1" for i in range(20)))
    with pytest.raises(InputError, match="only one class"):
        load_dataset(str(p), target_column="y")


def test_missing_feature_imputed_missing_target_names_row(tmp_path):
    lines = [f"{i},{i},{i % 2}" for i in range(20)]
    lines[6] = "6,,0"
    p = _csv(tmp_path, "a,b,y\n" + "\n".join(lines))
    d = load_dataset(str(p), target_column="y")
    assert bool(d.train.tensors[0].isfinite().all()) and d.meta["preprocessor"]["missing"] == {"b": 1}
    assert any("imputed" in line and "b 1" in line for line in d.meta["preprocessing"])
    trees = load_dataset(str(p), target_column="y", preprocess="trees")
    X = __import__("torch").cat([trees.train.tensors[0], trees.val.tensors[0], trees.test.tensors[0]])
    assert int(X.isnan().sum()) == 1  # XGBoost gets the gap as NaN
    lines[6] = "6,6,"
    p = _csv(tmp_path, "a,b,y\n" + "\n".join(lines))
    with pytest.raises(InputError) as ei:
        load_dataset(str(p), target_column="y")
    msg = str(ei.value)
    assert "data.csv" in msg and "row 8" in msg and "'y'" in msg


def test_regression_target_detected(tmp_path):
    rows = "\n".join(f"{i},{(i * 7) % 13},{i * 2.5 + (i % 3) * 0.1:.2f}" for i in range(60))
    p = _csv(tmp_path, "a,b,price\n" + rows)
    d = load_dataset(str(p), target_column="price")
    assert d.task == "regression" and d.num_classes is None and d.meta["target_scale"]["std"] > 0


def test_text_jsonl_and_bad_row(tmp_path):
    p = tmp_path / "t.jsonl"
    recs = [{"text": f"sentence number {i}", "label": ["a", "b", "c"][i % 3]} for i in range(30)]
    p.write_text("\n".join(json.dumps(r) for r in recs))
    d = load_dataset(str(p))
    assert d.modality == "text" and d.num_classes == 3 and len(d.train.texts) == d.sizes["train"]
    lines = p.read_text().splitlines()
    lines[4] = json.dumps({"text": "no label here"})
    p.write_text("\n".join(lines))
    with pytest.raises(InputError, match=r"t.jsonl: row 5: needs fields 'text' and 'label'"):
        load_dataset(str(p))


def test_text_csv(tmp_path):
    p = _csv(tmp_path, "text,label\n" + "\n".join(f"words {i},{i % 2}" for i in range(20)), "t.csv")
    d = load_dataset(str(p), modality="text")
    assert d.modality == "text" and d.num_classes == 2


def test_image_folder(tmp_path):
    np = pytest.importorskip("numpy")
    from PIL import Image

    root = tmp_path / "imgs"
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True)
        for i in range(6):
            Image.fromarray((np.random.default_rng(i).random((10, 10)) * 255).astype("uint8")).save(
                root / c / f"{i}.png")
    d = load_dataset(str(root), image_size=8)
    assert d.modality == "image" and d.num_classes == 2 and d.input_spec["shape"] == [1, 8, 8]
    (root / "dog" / "broken.png").write_text("not an image")
    with pytest.raises(InputError, match="broken.png: not a readable image"):
        load_dataset(str(root))


def test_graph_files(tmp_path):
    nodes = _csv(tmp_path, "f1,f2,label\n" + "\n".join(f"{i},{i % 3},{i % 2}" for i in range(12)), "nodes.csv")
    edges = _csv(tmp_path, "src,dst\n" + "\n".join(f"{i},{(i + 1) % 12}" for i in range(12)), "edges.csv")
    d = load_dataset(str(edges), node_features=str(nodes), target_column="label")
    assert d.modality == "graph" and d.meta["graph"].num_nodes == 12 and d.num_classes == 2
    bad = _csv(tmp_path, "src,dst\n0,1\n1,99\n", "bad_edges.csv")
    with pytest.raises(InputError, match=r"bad_edges.csv: row 3: node id 99 out of range"):
        load_dataset(str(bad), node_features=str(nodes), target_column="label")
