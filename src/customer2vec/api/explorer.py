"""The explorer as the HTTP API serves it: the service lives in :mod:`customer2vec.workflow`.

:class:`~customer2vec.workflow.explorer.Explorer` loads a model once (through
:func:`~customer2vec.workflow.opened.open_model`) and answers with plain dicts; this module
adds only the API's own limits. :func:`_clean` is the one conversion of table values to
JSON scalars (:func:`customer2vec.workflow.cards.json_scalar`).
"""

from __future__ import annotations

from customer2vec.workflow.cards import Scalar
from customer2vec.workflow.cards import json_scalar as _clean
from customer2vec.workflow.explorer import SEGMENT_HINT, Explorer, NotSupportedError

#: Most items or customers one request may ask for.
MAX_N = 1000

__all__ = ["MAX_N", "SEGMENT_HINT", "Explorer", "NotSupportedError", "Scalar", "_clean"]
