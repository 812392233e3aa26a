"""Hyperparameters are checked against their ``__init__`` annotations before any work."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from customer2vec.errors import ConfigError
from customer2vec.models import Model, create_model, model_names
from customer2vec.models.params import Interval, Options, validate_params


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_accepts_its_own_defaults(name: str) -> None:
    validate_params(create_model(name))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"random_state": -1}, "`random_state` must be an int in [0, 4294967295]; got -1."),
        ({"random_state": "abc"}, "`random_state` must be an int or unset (None); got 'abc'."),
        ({"random_state": 2**32}, "`random_state` must be an int in [0, 4294967295]"),
        ({"n_factors": 10**12}, "`n_factors` must be at most 2,147,483,647 in size"),
        ({"n_factors": 50_000_000}, "`n_factors` must be at most 4,096; got 50000000."),
        ({"n_factors": 2.5}, "`n_factors` must be an int; got 2.5."),
        ({"n_epochs": True}, "`n_epochs` must be an int; got True."),
        ({"n_epochs": -3}, "`n_epochs` must be >= 0; got -3."),
        ({"sample": float("nan")}, "`sample` must be a finite number; got nan."),
        ({"sample": "often"}, "`sample` must be a number; got 'often'."),
        ({"context": 3}, "`context` must be a string; got 3."),
    ],
)
def test_bad_values_name_the_parameter_and_the_value(params: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_params(create_model("item2vec", **params))
    assert message in str(caught.value)


def test_literal_and_list_annotations() -> None:
    validate_params(create_model("tifu-knn", metric="cosine"))
    with pytest.raises(ConfigError, match="one of 'euclidean', 'cosine'; got 'l1'"):
        validate_params(create_model("tifu-knn", metric="l1"))
    validate_params(create_model("attr2vec", attributes=["department", "brand"]))
    validate_params(create_model("attr2vec", attributes="department"))
    with pytest.raises(ConfigError, match="`attributes`"):
        validate_params(create_model("attr2vec", attributes=["department", 3]))


def test_declared_constraints_are_checked_with_the_annotations() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_params(create_model("item2vec", context="sideways"))
    assert "`context` must be one of 'basket', 'window'; got 'sideways'." in str(caught.value)
    with pytest.raises(ConfigError, match="`mode` must be one of 'dbow', 'dm'; got 'pvdm'"):
        create_model("customer2vec", mode="pvdm").fit(None)
    validate_params(create_model("node2vec", edges=Path("payments.csv")))
    with pytest.raises(ConfigError, match="`edges` must be a string or a Path; got 3."):
        validate_params(create_model("node2vec", edges=3))


class Rated(Model):
    """A model whose parameters only constraints describe fully."""

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "rate": [Interval(float, 0, 1), None],
        "size": [Interval(int, 1, None)],
        "kind": [Options("a", "b")],
    }

    def __init__(self, *, rate: float | None = 0.5, size: int = 1, kind: str = "a") -> None:
        self.rate = rate
        self.size = size
        self.kind = kind

    def fit(self, corpus: Any) -> Rated:
        self.fitted_ = True
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("fitted_",)

    def _save_state(self, directory: Any) -> None:
        return None

    def _load_state(self, directory: Any, state: dict, *, mmap: bool) -> None:
        return None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rate": 1.5}, "`rate` must be a number in [0, 1] or unset (None); got 1.5."),
        ({"size": 0}, "`size` must be an int >= 1; got 0."),
        ({"size": True}, "`size` must be an int; got True."),
        ({"kind": "c"}, "`kind` must be one of 'a', 'b'; got 'c'."),
    ],
)
def test_intervals_and_options_name_what_they_allow(params: dict, message: str) -> None:
    assert Rated(rate=None, size=3, kind="b").fit(None).is_fitted
    model = Rated(**params)
    with pytest.raises(ConfigError) as caught:
        model.fit(None)
    assert message in str(caught.value)
    assert not model.is_fitted
