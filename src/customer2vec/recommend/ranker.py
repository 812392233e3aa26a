"""The one ranker: score, mask, top-n.

``recommend``, ``recommend-batch``, the HTTP API, ``evaluate``, model selection and the
benches all rank items through :class:`Ranker`, so a published figure is what a user gets:
the same masking of seen items (the model's ``repeats`` policy unless told otherwise), the
same candidates, NaN treated as ``-inf``, and the same tie-breaking.
"""

from __future__ import annotations

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models.base import Model
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import customer_items
from customer2vec.vectors.search import top_rows


class Ranker:
    """Rank every item of a history for some of its customers with a fitted model.

    Parameters
    ----------
    model
        A fitted :class:`RankingModel`.
    exclude_seen
        Leave out items the customer bought before. None: the model's policy (left out
        unless ``model.repeats``, as for next-basket models and baselines).

    Examples
    --------
    >>> top, scores = Ranker(model).rank(history, customers, n=10)   # doctest: +SKIP
    """

    def __init__(self, model: RankingModel, *, exclude_seen: bool | None = None) -> None:
        check_ranking(model)
        if exclude_seen is not None and not isinstance(exclude_seen, bool | np.bool_):
            raise ConfigError(f"`exclude_seen` must be a bool or None; got {exclude_seen!r}.")
        self.model = model
        self.exclude_seen = (not model.repeats) if exclude_seen is None else bool(exclude_seen)

    def scores(
        self,
        history: BasketCorpus,
        customers: np.ndarray,
        *,
        allowed: np.ndarray | None = None,
    ) -> np.ndarray:
        """The model's scores with what must not be shown set to ``-inf`` (a fresh array).

        ``allowed`` is a boolean mask over items (None: every item may be shown).
        """
        scores = np.asarray(self.model.score(history, customers), dtype=np.float32)
        if scores.shape != (len(customers), history.n_items):
            raise DataValidationError(
                f"{self.model.name}.score returned shape {scores.shape}; expected "
                f"{(len(customers), history.n_items)}."
            )
        if not scores.flags.writeable:
            scores = scores.copy()
        np.fmax(scores, -np.inf, out=scores)  # NaN -> -inf in one pass
        if self.exclude_seen:
            scores[customer_items(history, customers)] = -np.inf
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        return scores

    def rank(
        self,
        history: BasketCorpus,
        customers: np.ndarray,
        n: int,
        *,
        allowed: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` best items of each customer, best first (ties by item index).

        Returns
        -------
        (top, scores)
            ``int64`` item indices of shape ``(len(customers), n)``, ``-1`` where fewer than
            ``n`` items may be shown; their ``float32`` scores, ``-inf`` at the ``-1``s.
        """
        scores = self.scores(history, customers, allowed=allowed)
        top = top_rows(scores, n)
        chosen = np.take_along_axis(scores, top, axis=1)
        top[chosen == -np.inf] = -1
        if top.shape[1] < n:  # fewer items than n
            pad = n - top.shape[1]
            top = np.hstack([top, np.full((len(top), pad), -1, dtype=np.int64)])
            chosen = np.hstack([chosen, np.full((len(chosen), pad), -np.inf, np.float32)])
        return top, chosen


def check_ranking(model: object) -> None:
    """Raise ``ConfigError`` unless ``model`` can rank items.

    A ranking model declares ``can_rank``; a wrapper that is no :class:`Model` (a bench's
    adapter, a user's ensemble) ranks too when it declares ``can_rank``, ``repeats`` and a
    ``score(history, customers)`` method.
    """
    declared = getattr(model, "can_rank", False) is True and callable(getattr(model, "score", None))
    if not (declared and (isinstance(model, Model) or hasattr(model, "repeats"))):
        raise ConfigError(
            f"a {getattr(model, 'name', type(model).__name__)} model cannot rank items; train a "
            "ranking model (e.g. als, customer2vec, item2vec, tifu-knn, next-basket) to "
            "recommend."
        )
