"""IdMap: round trips, unknown-id policies, persistence and the int/str coercion."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, UnknownIdError

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
int_ids = st.lists(INT64, unique=True, max_size=30).map(lambda xs: np.array(xs, dtype=np.int64))
str_ids = st.lists(st.text(max_size=8), unique=True, max_size=30).map(
    lambda xs: np.array(xs, dtype=object)
)
any_ids = st.one_of(int_ids, str_ids)


def _unknown_for(ids: np.ndarray, n: int) -> np.ndarray:
    """``n`` ids of the same type as ``ids`` that are not in it."""
    if ids.dtype.kind == "i":
        start = int(ids.max()) + 1 if len(ids) and ids.max() < 2**62 else -(2**62)
        return np.arange(start, start + n, dtype=np.int64)
    return np.array([f"\x00unknown-{k}" for k in range(n)], dtype=object)


@settings(max_examples=60, deadline=None)
@given(ids=any_ids)
def test_round_trip_external_internal_external(ids: np.ndarray) -> None:
    id_map = IdMap(ids)
    internal = id_map.to_internal(ids)
    assert internal.dtype == np.int64
    np.testing.assert_array_equal(internal, np.arange(len(ids)))
    np.testing.assert_array_equal(id_map.to_external(internal), ids)
    assert id_map.external.dtype == (np.int64 if ids.dtype.kind == "i" else object)
    assert len(id_map) == len(ids)
    assert all(x in id_map for x in ids)
    assert all(id_map.index(x) == k for k, x in enumerate(ids))


@settings(max_examples=60, deadline=None)
@given(ids=any_ids, data=st.data())
def test_unknown_ids_follow_the_policy(ids: np.ndarray, data: st.DataObject) -> None:
    id_map = IdMap(ids, kind="item")
    unknown = _unknown_for(ids, data.draw(st.integers(1, 4)))
    known = ids[: data.draw(st.integers(0, len(ids)))]
    query = np.concatenate([known, unknown])
    order = data.draw(st.permutations(range(len(query))))
    query = query[list(order)]
    is_known = np.isin(np.arange(len(query)), [i for i, k in enumerate(order) if k < len(known)])

    missing = id_map.to_internal(query, on_unknown="missing")
    assert (missing[~is_known] == -1).all()
    np.testing.assert_array_equal(id_map.to_external(missing[is_known]), query[is_known])
    np.testing.assert_array_equal(id_map.to_internal(query, on_unknown="skip"), missing[is_known])
    with pytest.raises(UnknownIdError, match=f"{len(unknown)} unknown item ids|unknown item id"):
        id_map.to_internal(query)
    assert unknown[0] not in id_map


def test_unknown_error_names_count_and_first() -> None:
    id_map = IdMap(["a", "b"], kind="customer")
    with pytest.raises(UnknownIdError, match=r"^2 unknown customer ids \(first: 'x'\)"):
        id_map.to_internal(["a", "x", "y"])
    with pytest.raises(UnknownIdError, match=r"^unknown customer id 'z'$"):
        id_map.index("z")
    with pytest.raises(KeyError):  # also the builtin
        id_map.index("z")
    with pytest.raises(ConfigError, match="on_unknown"):
        id_map.to_internal(["a"], on_unknown="ignore")  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(ids=any_ids, mmap=st.booleans())
def test_save_load_keeps_dtype_and_values(ids: np.ndarray, mmap: bool) -> None:
    id_map = IdMap(ids)
    with tempfile.TemporaryDirectory() as tmp:
        written = id_map.save(tmp, "item_ids")
        assert written.suffix == (".npy" if ids.dtype.kind == "i" else ".json")
        loaded = IdMap.load(tmp, "item_ids", mmap=mmap)
        assert loaded.external.dtype == id_map.external.dtype
        np.testing.assert_array_equal(loaded.external, ids)
        np.testing.assert_array_equal(loaded.to_internal(ids), np.arange(len(ids)))


def test_save_replaces_the_other_format() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        IdMap(["a"]).save(tmp, "ids")
        IdMap([1, 2]).save(tmp, "ids")
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["ids.npy"]
        assert IdMap.load(tmp, "ids").external.tolist() == [1, 2]


def test_string_ids_are_a_json_list() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        IdMap(["é", "b"]).save(tmp, "ids")
        assert json.loads((Path(tmp) / "ids.json").read_text(encoding="utf-8")) == ["é", "b"]


def test_load_errors() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(DataValidationError, match="expected ids.npy or ids.json"):
            IdMap.load(tmp, "ids")
        (Path(tmp) / "ids.json").write_text('{"a": 1}', encoding="utf-8")
        with pytest.raises(DataValidationError, match="JSON list of strings"):
            IdMap.load(tmp, "ids")
        (Path(tmp) / "ids.json").write_text("[1,", encoding="utf-8")
        with pytest.raises(DataValidationError, match="corrupt"):
            IdMap.load(tmp, "ids")


@settings(max_examples=60, deadline=None)
@given(ids=int_ids)
def test_integer_map_finds_ids_typed_as_strings(ids: np.ndarray) -> None:
    id_map = IdMap(ids)
    as_text = [str(x) for x in ids]
    np.testing.assert_array_equal(id_map.to_internal(as_text), np.arange(len(ids)))
    np.testing.assert_array_equal(id_map.to_internal(np.array(as_text)), np.arange(len(ids)))
    assert all(id_map.index(text) == k for k, text in enumerate(as_text))


@settings(max_examples=60, deadline=None)
@given(numbers=st.lists(INT64, unique=True, max_size=30))
def test_string_map_finds_ids_typed_as_integers(numbers: list[int]) -> None:
    id_map = IdMap(np.array([str(x) for x in numbers], dtype=object))
    np.testing.assert_array_equal(id_map.to_internal(numbers), np.arange(len(numbers)))
    np.testing.assert_array_equal(
        id_map.to_internal(np.array(numbers, dtype=np.int64)), np.arange(len(numbers))
    )
    assert all(id_map.index(x) == k for k, x in enumerate(numbers))


def test_coercion_edge_cases() -> None:
    ints = IdMap([10, 20, 2**63 - 1], kind="item")
    query = ["20", " 10 ", "+10", "x", None, "1e1", str(2**63), "9223372036854775807", 20.0, 2.5]
    np.testing.assert_array_equal(
        ints.to_internal(np.array(query, dtype=object), on_unknown="missing"),
        [1, 0, 0, -1, -1, -1, -1, 2, 1, -1],
    )
    np.testing.assert_array_equal(
        ints.to_internal(np.array([10.0, np.nan]), on_unknown="missing"), [0, -1]
    )
    np.testing.assert_array_equal(ints.to_internal(np.array([20], dtype=np.uint64)), [1])
    assert "x" not in ints
    assert np.int32(20) in ints
    strings = IdMap(["5", "a"], kind="item")
    np.testing.assert_array_equal(
        strings.to_internal(pd.Series([5, 6]), on_unknown="missing"), [0, -1]
    )
    assert 5 in strings
    assert 5.0 in strings


def test_duplicates_are_rejected_with_count_and_first() -> None:
    with pytest.raises(DataValidationError, match=r"3 are repeated \(first: 'b'\)"):
        IdMap(["a", "b", "b", "c", "c", "b"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, "a"], "all integers or all strings"),
        (np.array(["a", None], dtype=object), "must not be missing"),
        (np.array([1.5]), "all integers or all strings"),
        (np.zeros((2, 2), dtype=np.int64), "one-dimensional"),
    ],
)
def test_invalid_ids_are_rejected(values: object, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        IdMap(values)


def test_from_values_keeps_first_appearance() -> None:
    id_map = IdMap.from_values(pd.Series(["b", "a", "b", "c", "a"]), kind="customer")
    assert id_map.external.tolist() == ["b", "a", "c"]
    assert id_map.kind == "customer"
    np.testing.assert_array_equal(IdMap.from_values([3, 1, 3]).external, [3, 1])


def test_external_is_read_only_and_the_input_is_not() -> None:
    source = np.array([3, 1, 2])
    id_map = IdMap(source)
    source[0] = 9  # the caller's array stays writable and the map keeps its own copy
    assert id_map.external.tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match="read-only"):
        id_map.external[0] = 5


def test_to_external_rejects_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"\[0, 2\)"):
        IdMap(["a", "b"]).to_external([0, -1])


def test_ids_are_kept_exactly_and_found_despite_surrounding_blanks() -> None:
    ids = IdMap(["00042137  ", "a", "a ", " b"], kind="customer")
    assert ids.to_external([0, 3]).tolist() == ["00042137  ", " b"]
    typed = ["00042137", "00042137  ", "a", "a ", "b", "b  "]
    assert ids.to_internal(typed).tolist() == [0, 0, 1, 2, 3, 3]
    # " a  " trims to "a", which two stored ids trim to: ambiguous, so unknown.
    assert ids.to_internal(["zz", " a  "], on_unknown="missing").tolist() == [-1, -1]
    with pytest.raises(UnknownIdError):
        ids.index(" a  ")
