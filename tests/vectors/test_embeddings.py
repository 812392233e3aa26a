"""Embeddings: lookup, read-only vectors, similar(), persistence, export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer2vec.errors import DataValidationError, UnknownIdError
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.export import export_embeddings
from customer2vec.vectors.search import top_n


@pytest.fixture
def emb() -> Embeddings:
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0]], dtype=np.float32)
    return Embeddings(["a", "a2", "b", "b2", "c"], vectors)


def test_lookup_and_read_only(emb):
    assert len(emb) == 5
    assert "b" in emb
    assert "zz" not in emb
    np.testing.assert_array_equal(emb["b"], [0, 1])
    with pytest.raises(ValueError, match="read-only"):
        emb.vectors[0, 0] = 3.0
    with pytest.raises(UnknownIdError):
        emb["zz"]


def test_similar_by_key_excludes_the_key_and_is_sorted(emb):
    hits = emb.similar("a", n=2)
    assert hits.ids.tolist() == ["a2", "b2"]
    assert hits.scores[0] > hits.scores[1]
    assert emb.similar("a", n=2, exclude=["a2", "unknown"]).ids.tolist() == ["b2", "b"]


def test_similar_by_vector_and_dimension_check(emb):
    assert emb.similar(np.array([0.0, 1.0]), n=1).ids.tolist() == ["b"]
    with pytest.raises(DataValidationError, match="3 dimensions"):
        emb.similar(np.ones(3))


def test_integer_ids_accept_strings_from_the_command_line():
    emb = Embeddings(np.array([10, 20, 30]), np.eye(3, dtype=np.float32))
    assert emb.similar("10", n=1).ids.dtype.kind == "i"


def test_top_n_ties_break_by_index():
    assert top_n(np.array([1.0, 3.0, 3.0, 2.0]), 3).tolist() == [1, 2, 3]
    assert top_n(np.array([1.0, 3.0]), 5, exclude=np.array([1])).tolist() == [0]


def test_save_load_memory_maps(emb, tmp_path):
    emb.save(tmp_path, "item")
    loaded = Embeddings.load(tmp_path, "item")
    assert isinstance(loaded.vectors.base, np.memmap) or not loaded.vectors.flags.writeable
    np.testing.assert_array_equal(loaded.vectors, emb.vectors)
    assert loaded.keys.tolist() == emb.keys.tolist()


def test_parquet_export_has_id_then_float_list(emb, tmp_path):
    path = export_embeddings(emb, tmp_path / "v.parquet")
    frame = pd.read_parquet(path)
    assert list(frame.columns) == ["item_id", "vector"]
    assert frame["item_id"].tolist() == ["a", "a2", "b", "b2", "c"]
    np.testing.assert_allclose(np.stack(frame["vector"]), emb.vectors)


def test_word2vec_export_loads_in_gensim(tmp_path):
    gensim = pytest.importorskip("gensim")
    emb = Embeddings(["x y", "z"], np.array([[1, 2], [3, 4]], dtype=np.float32))
    path = export_embeddings(emb, tmp_path / "v.txt", fmt="word2vec")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(path))
    assert kv.index_to_key == ["x_y", "z"]
    np.testing.assert_allclose(kv["z"], [3, 4])
