"""Check a model's hyperparameters against its ``__init__`` annotations before any work.

Each parameter is declared once, in ``__init__``; its annotation (``int``, ``float | None``,
``Literal["a", "b"]``...) is the type constraint checked here, so a bad ``--param`` fails at
once with one message instead of deep inside training. What an annotation cannot say (the
choices of a ``str``, another accepted type) a model declares in ``_parameter_constraints``
(scikit-learn style: name -> list of allowed types, :class:`Interval` s and :class:`Options`;
a value must satisfy one of them). ``Model.fit`` runs :func:`validate_params` first; models
still check the ranges that depend on each other in ``fit``.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from typing import Any

from customer2vec.errors import ConfigError

#: Integers past this break the compiled kernels (int32 indices) long before memory runs out.
MAX_INT = 2**31 - 1
#: NumPy's seed range.
MAX_SEED = 2**32 - 1
#: Vector sizes past these would not fit a real catalogue in memory (50K items x 4,096
#: float32 dims is 0.8 GB per matrix), and no embedding in the literature is that wide.
MAX_SIZE = {"n_factors": 4096, "n_hidden": 8192}

_SIMPLE = {"int", "float", "str", "bool", "None"}


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (``int`` or ``float``) in ``[low, high]``; None leaves a side open."""

    kind: type
    low: float | None = None
    high: float | None = None

    def accepts(self, value: Any) -> bool:
        return (
            _is_instance(value, self.kind)
            and (self.low is None or value >= self.low)
            and (self.high is None or value <= self.high)
        )

    def describe(self) -> str:
        what = "an int" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in [{self.low}, {self.high}]"
        if self.low is not None:
            return f"{what} >= {self.low}"
        if self.high is not None:
            return f"{what} <= {self.high}"
        return what


class Options:
    """One of the given values (``Options("basket", "window")``)."""

    def __init__(self, *values: Any) -> None:
        self.values = values

    def accepts(self, value: Any) -> bool:
        return any(_is_instance(value, type(v)) and value == v for v in self.values)

    def describe(self) -> str:
        return f"one of {', '.join(repr(v) for v in self.values)}"

    def __repr__(self) -> str:
        return f"Options({', '.join(repr(v) for v in self.values)})"


def validate_params(model: Any) -> None:
    """Raise ``ConfigError`` for a hyperparameter that does not fit its annotation.

    Checks types (``int``, ``float``, ``str``, ``bool``, ``None``, ``Literal[...]``, lists of
    those), the model's ``_parameter_constraints``, that numbers are finite and within the
    int32 range, that ``n_*`` counts are not negative, that vector sizes stay within
    ``MAX_SIZE`` and that ``random_state`` is None or a seed in [0, 2**32 - 1].
    """
    signature = inspect.signature(type(model).__init__)
    constraints = getattr(type(model), "_parameter_constraints", {})
    for parameter in signature.parameters.values():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        name = parameter.name
        value = getattr(model, name)
        annotation = parameter.annotation
        if not isinstance(annotation, str):
            annotation = getattr(annotation, "__name__", str(annotation))
        if not _matches(value, annotation):
            raise ConfigError(
                f"`{name}` must be {_describe(annotation)}; got {value!r}. "
                f"Set it with --param {name}=VALUE."
            )
        allowed = constraints.get(name)
        if allowed is not None and not any(_satisfies(value, c) for c in allowed):
            raise ConfigError(
                f"`{name}` must be {' or '.join(_explain(c) for c in allowed)}; got {value!r}. "
                f"Set it with --param {name}=VALUE."
            )
        _check_range(name, value)


def check_constraints(constraints: dict[str, list[Any]], names: set[str], owner: str) -> None:
    """Raise ``TypeError`` for a constraint on no parameter, or one of an unknown kind."""
    for name, allowed in constraints.items():
        if name not in names:
            raise TypeError(f"{owner}._parameter_constraints names {name!r}, not a parameter.")
        for constraint in allowed:
            if not (constraint is None or isinstance(constraint, type | Interval | Options)):
                raise TypeError(
                    f"{owner}._parameter_constraints[{name!r}] holds {constraint!r}; use a type, "
                    "None, an Interval or Options."
                )


def _satisfies(value: Any, constraint: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return _is_instance(value, constraint)
    return bool(constraint.accepts(value))


def _explain(constraint: Any) -> str:
    if constraint is None:
        return "unset (None)"
    if isinstance(constraint, type):
        simple = constraint.__name__
        return _describe(simple) if simple in _SIMPLE else f"a {simple}"
    return str(constraint.describe())


def _is_instance(value: Any, kind: type) -> bool:
    """``isinstance``, except that a bool is no number and an int is a float."""
    if kind in (int, float, str, bool):
        return _is(value, kind.__name__)
    return isinstance(value, kind)


def _alternatives(annotation: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in annotation:
        depth += char in "[("
        depth -= char in "])"
        if char == "|" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _matches(value: Any, annotation: str) -> bool:
    for option in _alternatives(annotation):
        literal = re.fullmatch(r"Literal\[(.*)\]", option)
        listed = re.fullmatch(r"(?:list|tuple|Sequence)\[(.*?)(?:, \.\.\.)?\]", option)
        if literal:
            choices = [c.strip().strip("'\"") for c in literal.group(1).split(",")]
            if isinstance(value, str) and value in choices:
                return True
        elif listed:
            if isinstance(value, list | tuple) and all(_matches(v, listed.group(1)) for v in value):
                return True
        elif option not in _SIMPLE or _is(value, option):
            return True
    return False


def _is(value: Any, kind: str) -> bool:
    if kind == "None":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    if kind == "float":
        return isinstance(value, int | float)
    return isinstance(value, str)


def _describe(annotation: str) -> str:
    words = {"int": "an int", "float": "a number", "str": "a string", "bool": "true or false"}
    plurals = {"int": "ints", "float": "numbers", "str": "strings", "bool": "booleans"}
    described = []
    for option in _alternatives(annotation):
        literal = re.fullmatch(r"Literal\[(.*)\]", option)
        listed = re.fullmatch(r"(?:list|tuple|Sequence)\[(\w+)(?:, \.\.\.)?\]", option)
        if literal:
            described.append(f"one of {literal.group(1)}")
        elif listed and listed.group(1) in plurals:
            described.append(f"a list of {plurals[listed.group(1)]}")
        elif option == "None":
            described.append("unset (None)")
        else:
            described.append(words.get(option, option))
    return " or ".join(described)


def _check_range(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"`{name}` must be a finite number; got {value!r}.")
    if name == "random_state":
        if not 0 <= value <= MAX_SEED:
            raise ConfigError(f"`random_state` must be an int in [0, {MAX_SEED}]; got {value!r}.")
        return
    if abs(value) > MAX_INT:
        raise ConfigError(f"`{name}` must be at most {MAX_INT:,} in size; got {value!r}.")
    if name in MAX_SIZE and value > MAX_SIZE[name]:
        raise ConfigError(f"`{name}` must be at most {MAX_SIZE[name]:,}; got {value!r}.")
    if name.startswith("n_") and value < 0:
        raise ConfigError(f"`{name}` must be >= 0; got {value!r}.")
