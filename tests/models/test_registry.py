"""Models register themselves by name; a registry line maps the name to its module."""

from __future__ import annotations

import subprocess
import sys

import pytest

from customer2vec.errors import ConfigError
from customer2vec.models import REGISTRY, Model, get_model_class, model_names
from customer2vec.models.als import ALS


def test_a_name_finds_the_class_that_declares_it():
    assert get_model_class("als") is ALS
    assert model_names() == sorted(REGISTRY)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown model 'nope'; choose one of als, "):
        get_model_class("nope")


def test_a_registry_line_to_the_wrong_module_says_so(monkeypatch):
    monkeypatch.setitem(REGISTRY, "ghost", "popularity")
    with pytest.raises(ImportError, match="popularity defines no model named 'ghost'"):
        get_model_class("ghost")


def test_a_class_elsewhere_reusing_a_name_shadows_nothing():
    class Impostor(Model):
        name = "als"

    assert get_model_class("als") is ALS


def test_one_module_cannot_define_two_models_of_one_name():
    class First(Model):
        name = "twin"

    with pytest.raises(TypeError, match="two models named 'twin' \\(.*First and .*Second\\)"):

        class Second(Model):
            name = "twin"


def test_constraints_must_name_parameters():
    with pytest.raises(TypeError, match="names 'n_bananas', not a parameter"):

        class Bad(Model):
            _parameter_constraints = {"n_bananas": [int]}  # noqa: RUF012

    with pytest.raises(TypeError, match="use a type, None, an Interval or Options"):

        class Worse(Model):
            def __init__(self, *, mode: str = "a") -> None:
                self.mode = mode

            _parameter_constraints = {"mode": [("a", "b")]}  # noqa: RUF012


def test_a_model_module_is_imported_only_when_its_model_is_asked_for():
    code = (
        "import sys; from customer2vec.models import create_model, load_model; "
        "create_model('item2vec'); "
        "assert 'torch' not in sys.modules, 'torch'; "
        "assert 'customer2vec.models.gru' not in sys.modules, 'gru'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
