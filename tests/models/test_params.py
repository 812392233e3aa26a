"""Hyperparameters are checked against their ``__init__`` annotations before any work."""

from __future__ import annotations

import pytest

from customer2vec.errors import ConfigError
from customer2vec.models import create_model, model_names
from customer2vec.models.params import validate_params


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
