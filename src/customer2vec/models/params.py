"""Check a model's hyperparameters against its ``__init__`` annotations before any work.

Each parameter is declared once, in ``__init__``; its annotation (``int``, ``float | None``,
``Literal["a", "b"]``...) is the type constraint checked here, so a bad ``--param`` fails at
once with one message instead of deep inside training. Models still check ranges in ``fit``.
"""

from __future__ import annotations

import inspect
import math
import re
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


def validate_params(model: Any) -> None:
    """Raise ``ConfigError`` for a hyperparameter that does not fit its annotation.

    Checks types (``int``, ``float``, ``str``, ``bool``, ``None``, ``Literal[...]``, lists of
    those), that numbers are finite and within the int32 range, that ``n_*`` counts are not
    negative, that vector sizes stay within ``MAX_SIZE`` and that ``random_state`` is None
    or a seed in [0, 2**32 - 1].
    """
    signature = inspect.signature(type(model).__init__)
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
        _check_range(name, value)


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
    described = []
    for option in _alternatives(annotation):
        literal = re.fullmatch(r"Literal\[(.*)\]", option)
        if literal:
            described.append(f"one of {literal.group(1)}")
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
