"""Candidate generation in the style of YouTube's deep recommender (Covington et al. 2016).

A customer is the (optionally recency-weighted) average of the input vectors of the items in
their latest ``max_baskets`` baskets, concatenated with their features from the customers
table (one-hot categorical columns, standardized numeric ones, a missing value as its own
category). A small ReLU network maps this to the customer vector ``u``, and item ``j``
scores ``u . w_j + b_j``: the softmax weights ``w_j`` are the item vectors.

Training predicts a later basket from the baskets before it: each epoch draws
``n_positions`` baskets ``t`` per customer (a fixed number per customer, as the paper does,
so heavy shoppers do not dominate the loss), encodes the baskets before ``t`` and treats
every item of basket ``t`` as a positive of a softmax over items, sampled with logQ
correction on a large catalogue (``models.neural.SampledSoftmax``).

With ``repeat_aware`` (the default) each logit also gets ``g(u) * log1p(r_j) + beta_j *
[r_j > 0]``, with ``r_j`` the customer's recency-decayed count of item ``j`` in the same
baskets, ``g(u) >= 0`` a gate read from the customer vector and ``beta_j`` a learned
per-item repeat bias (as in ``models.gru``): most of a grocery basket is bought before, and
an average of item vectors cannot say which items exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.sparse import vstack

from customer2vec.columns import Columns
from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables, concat_ranges
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.neural import (
    SampledSoftmax,
    SparseAwareAdam,
    add_item_output,
    add_repeat_scores,
    bag_rows,
    basket_targets,
    check_softmax_training,
    decayed_counts,
    import_torch,
    load_weights,
    output_scores,
    repeat_extra,
    save_weights,
    seed_and_threads,
)
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import check_customers
from customer2vec.progress import progress
from customer2vec.vectors.embeddings import Embeddings

#: Customers encoded at once when scoring.
SCORE_BATCH = 1024
_OTHER, _MISSING = "<other>", "<missing>"


class CandidateGen(EmbeddingModel, RankingModel):
    """YouTube-style candidate generation: history average + features -> MLP -> softmax.

    ``customer_vectors_`` are the network's last layer for the training customers;
    ``item_vectors_`` are the softmax weights. It ranks by ``u . w_j + b_j``, with ``u``
    encoded from the history given to :meth:`score` and the customer's features (looked
    up by id; a customer missing from the customers table gets "missing" in every column),
    so new customers and sessions are ranked like training customers.

    ``fit`` takes baskets with the side tables (``corpus_kind = "baskets+tables"``) or plain
    baskets; without a customers table, or with ``features=[]``, the customer is their
    history alone.

    Defaults, on The Complete Journey's last-basket split (``bench/sequence_models.py``):
    recall@10 0.139 at ``learning_rate=0.005`` and 0.140 at 0.02 (10 epochs); 20 epochs
    add 0.005 for twice the time. Without the repeat term: 0.099. Item vectors stay weak
    at this budget (category purity@10 0.02; ``n_positions=16`` gives 0.04 and recall
    0.138).

    Parameters
    ----------
    n_factors
        Size of the item vectors and of the customer vector.
    n_hidden
        Width of each hidden ReLU layer.
    n_layers
        Hidden ReLU layers before the last (linear) layer.
    max_baskets
        Most recent baskets averaged into a customer's history.
    recency_half_life
        Weight of a basket halves every this many baskets back (0: a plain average).
    features
        Columns of the customers table to use; None uses every column but the id. Leave out
        the labels you will predict from the vectors.
    max_categories
        Most frequent values one-hot encoded per categorical column; rarer ones share one
        slot.
    n_positions
        Target baskets drawn per customer and epoch.
    n_epochs
        Passes over the customers.
    batch_size
        Training examples (customer, target basket) per gradient step.
    n_negatives
        Negatives shared by a batch in the sampled softmax; with at least as many as there
        are items, the softmax is exact.
    ns_exponent
        Negatives are drawn with probability ``count ** ns_exponent``.
    learning_rate
        Adam's step size, decayed linearly to zero over training.
    repeat_aware
        Add the learned repeat term to the logits.
    repeat_decay
        Weight of a purchase ``k`` baskets before the latest in the repeat term:
        ``repeat_decay ** k``.
    n_threads
        Torch CPU threads (0 = every core). One by default: the network runs many small
        operations whose thread synchronization costs more than it saves, and far more on a
        busy machine (a 2-epoch fit on the synthetic demo data took 24-48 s with one thread
        and 210-293 s with two on a shared 2-core machine).
    random_state
        Seed of the initial weights, the target baskets and the negatives.
    """

    name = "candidate-gen"
    corpus_kind = "baskets+tables"
    repeats = True
    has_customer_vectors = True

    def __init__(
        self,
        *,
        n_factors: int = 64,
        n_hidden: int = 256,
        n_layers: int = 1,
        max_baskets: int = 50,
        recency_half_life: float = 0.0,
        features: list[str] | None = None,
        max_categories: int = 50,
        n_positions: int = 4,
        n_epochs: int = 10,
        batch_size: int = 256,
        n_negatives: int = 1024,
        ns_exponent: float = 0.75,
        learning_rate: float = 0.02,
        repeat_aware: bool = True,
        repeat_decay: float = 0.9,
        n_threads: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.n_hidden = n_hidden
        self.n_layers = n_layers
        self.max_baskets = max_baskets
        self.recency_half_life = recency_half_life
        self.features = features
        self.max_categories = max_categories
        self.n_positions = n_positions
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.n_negatives = n_negatives
        self.ns_exponent = ns_exponent
        self.learning_rate = learning_rate
        self.repeat_aware = repeat_aware
        self.repeat_decay = repeat_decay
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {
            "n_factors": 16,
            "n_hidden": 32,
            "n_epochs": 30,
            "learning_rate": 0.02,
            "n_threads": 1,
        }

    def _check_params(self) -> None:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_hidden, "n_hidden", minimum=1)
        require_int(self.n_layers, "n_layers", minimum=0)
        require_int(self.max_baskets, "max_baskets", minimum=1)
        require_float(self.recency_half_life, "recency_half_life", minimum=0.0)
        require_int(self.max_categories, "max_categories", minimum=1)
        require_int(self.n_positions, "n_positions", minimum=1)
        check_softmax_training(self)

    # -- training ------------------------------------------------------------------------
    def fit(self, corpus: BasketsWithTables | BasketCorpus) -> Self:
        self._check_params()
        baskets, customers = (
            (corpus.baskets, corpus.customers)
            if isinstance(corpus, BasketsWithTables)
            else (corpus, None)
        )
        if customers is None and self.features:
            raise ConfigError(
                f"`features` names {len(self.features)} column(s) but there is no customers "
                "table; ingest one (or pass features=None), and train on baskets+tables."
            )
        n_baskets = np.diff(baskets.customer_indptr)
        trainable = np.flatnonzero(n_baskets >= 2)
        if len(trainable) == 0:
            raise ConfigError(
                "candidate-gen learns to predict a later basket, but none of the "
                f"{baskets.n_customers} customers has 2 or more baskets; give it customers "
                "with longer histories."
            )
        spec = (
            []
            if customers is None
            else _feature_spec(customers, self.features, self.max_categories)
        )
        self.features_ = None
        if spec:
            table = customers.drop_duplicates(Columns.CUSTOMER)
            self.features_ = Embeddings(
                table[Columns.CUSTOMER].to_numpy(), _encode_features(table, spec), kind="customer"
            )
        self.feature_spec_ = spec
        seed = 0 if self.random_state is None else int(self.random_state)
        torch = seed_and_threads(seed, self.n_threads)
        net = self._network(torch, baskets.n_items, baskets.item_counts)
        softmax = SampledSoftmax(
            baskets.item_counts,
            self.n_negatives,
            self.ns_exponent,
            torch.Generator().manual_seed(seed),
            sparse=True,
        )
        rng = np.random.default_rng(seed)
        own = self._feature_rows(baskets, np.arange(baskets.n_customers))
        n_examples = len(trainable) * self.n_positions
        n_steps = self.n_epochs * -(-n_examples // self.batch_size)
        optimizer = SparseAwareAdam(net, self.learning_rate, n_steps)
        first = baskets.customer_indptr[:-1]
        bar = progress(total=n_steps, desc="candidate-gen", unit="batch")
        with bar:
            for _ in range(self.n_epochs):
                owner = rng.permutation(np.repeat(trainable, self.n_positions))
                # Target basket: uniform over the customer's baskets after the first.
                target = first[owner] + 1 + (rng.random(len(owner)) * (n_baskets[owner] - 1))
                target = target.astype(np.int64)
                for begin in range(0, len(owner), self.batch_size):
                    part = slice(begin, begin + self.batch_size)
                    stops = target[part]
                    starts = np.maximum(first[owner[part]], stops - self.max_baskets)
                    loss = self._loss(torch, net, softmax, baskets, starts, stops, own[owner[part]])
                    optimizer.step(loss)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        net.eval()
        if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
            raise FloatingPointError(
                "candidate-gen diverged (non-finite weights); lower learning_rate."
            )
        self.network_ = net
        self.item_vectors_ = Embeddings(baskets.item_ids, net.item_out.weight.detach().numpy())
        everyone = np.arange(baskets.n_customers, dtype=np.int64)
        self.customer_vectors_ = Embeddings(
            baskets.customer_ids, self.encode(baskets, everyone), kind="customer"
        )
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_", "customer_vectors_", "network_", "feature_spec_")

    def _network(self, torch: Any, n_items: int, item_counts: np.ndarray | None) -> Any:
        """Input item vectors, the ReLU tower, softmax weights and biases."""
        net = torch.nn.Module()
        net.item_in = torch.nn.EmbeddingBag(n_items, self.n_factors, mode="sum", sparse=True)
        # Unit-variance input vectors: a random projection of the items from the start, so
        # customers differ before the vectors learn (at 0.1, every state looked the same).
        torch.nn.init.normal_(net.item_in.weight, std=1.0)
        layers: list[Any] = []
        width = self.n_factors + _width(self.feature_spec_)
        for _ in range(self.n_layers):
            layers += [torch.nn.Linear(width, self.n_hidden), torch.nn.ReLU()]
            width = self.n_hidden
        layers.append(torch.nn.Linear(width, self.n_factors))
        net.tower = torch.nn.Sequential(*layers)
        add_item_output(
            torch, net, n_items, self.n_factors, item_counts, repeat_aware=self.repeat_aware
        )
        return net

    def _loss(
        self,
        torch: Any,
        net: Any,
        softmax: SampledSoftmax,
        baskets: BasketCorpus,
        starts: np.ndarray,
        stops: np.ndarray,
        features: np.ndarray,
    ) -> Any:
        """Sampled-softmax loss of predicting basket ``stops[k]`` from ``[starts[k], stops[k])``."""
        lines = _lines(baskets, starts, stops)
        users = self._forward(torch, net, lines, features)
        items, owners = basket_targets(torch, baskets, stops)
        extra = None
        if self.repeat_aware:
            counts = self._counts(lines, len(stops), baskets.n_items)

            def extra(candidates: Any) -> tuple[Any, Any]:
                return repeat_extra(net, users, counts, owners, items, candidates)

        return softmax.loss(users, owners, items, net.item_out.weight, net.item_bias, extra=extra)

    def _counts(self, lines: tuple[np.ndarray, ...], n_rows: int, n_items: int) -> Any:
        items, owner, age = lines
        return decayed_counts(owner, items, age, self.repeat_decay, (n_rows, n_items))

    def _forward(
        self, torch: Any, net: Any, lines: tuple[np.ndarray, ...], features: np.ndarray
    ) -> Any:
        """Customer vectors from their history lines (see :func:`_lines`) and feature rows."""
        items, owner, age = lines
        n_rows = len(features)
        weights = np.ones(len(items), dtype=np.float64)
        if self.recency_half_life > 0:
            weights = 0.5 ** (age / self.recency_half_life)
        weights /= np.bincount(owner, weights=weights, minlength=n_rows)[owner]
        sizes = np.bincount(owner, minlength=n_rows)
        history = bag_rows(
            net.item_in.weight,
            torch.from_numpy(items),
            torch.from_numpy(np.cumsum(sizes) - sizes),
            mode="sum",
            per_sample_weights=torch.from_numpy(weights.astype(np.float32)),
        )
        return net.tower(torch.cat([history, torch.from_numpy(features)], dim=1))

    def _feature_rows(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Encoded features of history customers; absent ones get "missing" everywhere."""
        width = _width(self.feature_spec_)
        out = np.empty((len(customers), width), dtype=np.float32)
        if width == 0:
            return out
        out[:] = _missing_row(self.feature_spec_)
        rows = self.features_.id_map.to_internal(
            history.customer_ids.to_external(customers), on_unknown="missing"
        )
        found = rows >= 0
        out[found] = self.features_.vectors[rows[found]]
        return out

    # -- encoding and ranking ------------------------------------------------------------
    def encode(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Customer vectors (``float32``) from the last ``max_baskets`` history baskets."""
        return self._encode(history, customers)[0]

    def _encode(self, history: BasketCorpus, customers: np.ndarray) -> tuple[np.ndarray, Any]:
        """Customer vectors and, with ``repeat_aware``, their decayed item counts."""
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)
        torch = import_torch()
        out = np.zeros((len(customers), self.n_factors), dtype=np.float32)
        stops = history.customer_indptr[customers + 1]
        starts = np.maximum(history.customer_indptr[customers], stops - self.max_baskets)
        features = self._feature_rows(history, customers)
        counts = []
        with torch.no_grad():
            for begin in range(0, len(customers), SCORE_BATCH):
                part = slice(begin, begin + SCORE_BATCH)
                lines = _lines(history, starts[part], stops[part])
                out[part] = self._forward(torch, self.network_, lines, features[part]).numpy()
                if self.repeat_aware:
                    counts.append(self._counts(lines, len(features[part]), history.n_items))
        return out, (vstack(counts, format="csr") if counts else None)

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """``u . w_j + b_j`` (+ the repeat term), ``u`` from the history and the features."""
        vectors, counts = self._encode(history, customers)
        scores = output_scores(self.network_, vectors)
        if counts is not None:
            add_repeat_scores(scores, self.network_, vectors, counts)
        return scores

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        state = super()._save_state(directory) or {}
        state["weights"] = save_weights(self.network_, directory)
        state["feature_spec"] = self.feature_spec_
        if self.features_ is not None:
            self.features_.save(directory, "feature")
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        super()._load_state(directory, state, mmap=mmap)
        if "weights" not in state or "feature_spec" not in state:
            raise DataValidationError(
                f"{directory} lacks the candidate-gen weights; train and save again."
            )
        self.feature_spec_ = state["feature_spec"]
        self.features_ = (
            Embeddings.load(directory, "feature", mmap=mmap) if self.feature_spec_ else None
        )
        net = self._network(import_torch(), len(self.item_vectors_), None)
        self.network_ = load_weights(net, directory, state["weights"])


def _lines(
    baskets: BasketCorpus, starts: np.ndarray, stops: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines of the basket windows ``[starts, stops)``: (item, window, age in baskets).

    A line's age counts baskets back from its window's latest (0).
    """
    n_baskets = stops - starts
    window = concat_ranges(starts, stops)
    lo, hi = baskets.indptr[window], baskets.indptr[window + 1]
    items = baskets.indices[concat_ranges(lo, hi)].astype(np.int64)
    owner = np.repeat(np.repeat(np.arange(len(starts)), n_baskets), hi - lo)
    age = np.repeat(np.repeat(stops, n_baskets) - 1 - window, hi - lo)
    return items, owner, age


# -- customer features --------------------------------------------------------------------
def _feature_spec(
    table: pd.DataFrame, columns: Sequence[str] | None, max_categories: int
) -> list[dict[str, Any]]:
    """How to encode each feature column (JSON-able: saved in ``model.json``)."""
    if Columns.CUSTOMER not in table.columns:
        raise DataValidationError(
            f"the customers table has no {Columns.CUSTOMER!r} column; found "
            f"{', '.join(map(str, table.columns))}. Ingest it with its id column mapped."
        )
    available = [c for c in table.columns if c != Columns.CUSTOMER]
    chosen = available if columns is None else list(columns)
    unknown = [c for c in chosen if c not in available]
    if unknown:
        raise DataValidationError(
            f"`features` names {len(unknown)} column(s) the customers table lacks (first: "
            f"{unknown[0]!r}); it has {', '.join(map(str, available)) or 'no feature columns'}."
        )
    spec: list[dict[str, Any]] = []
    for column in chosen:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            present = values.dropna().astype(np.float64)
            mean = float(present.mean()) if len(present) else 0.0
            std = float(present.std(ddof=0)) if len(present) > 1 else 0.0
            spec.append({"column": column, "kind": "numeric", "mean": mean, "std": std or 1.0})
        else:
            counts = values.dropna().astype(str).value_counts(sort=False)
            # Most frequent first, ties by value, so the encoding does not depend on row order.
            order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            levels = [level for level, _ in order[:max_categories]]
            spec.append({"column": column, "kind": "categorical", "levels": levels})
    return spec


def _width(spec: list[dict[str, Any]]) -> int:
    """Encoded columns: numeric value + missing flag; categorical levels + other + missing."""
    return sum(2 if s["kind"] == "numeric" else len(s["levels"]) + 2 for s in spec)


def _encode_features(table: pd.DataFrame, spec: list[dict[str, Any]]) -> np.ndarray:
    """The encoded feature matrix (``float32``), one row per table row."""
    blocks = []
    for s in spec:
        values = table[s["column"]]
        missing = values.isna().to_numpy()
        if s["kind"] == "numeric":
            standard = (values.astype(np.float64).to_numpy() - s["mean"]) / s["std"]
            blocks.append(np.column_stack([np.where(missing, 0.0, standard), missing]))
            continue
        slots = {level: i for i, level in enumerate(s["levels"])}
        other, absent = len(slots), len(slots) + 1
        pairs = zip(values, missing, strict=True)
        index = np.array([absent if m else slots.get(str(v), other) for v, m in pairs], np.int64)
        block = np.zeros((len(table), len(slots) + 2))
        block[np.arange(len(table)), index] = 1.0
        blocks.append(block)
    if not blocks:
        return np.zeros((len(table), 0), dtype=np.float32)
    return np.hstack(blocks).astype(np.float32)


def _missing_row(spec: list[dict[str, Any]]) -> np.ndarray:
    """The encoding of a customer absent from the table: every column missing."""
    return _encode_features(pd.DataFrame({s["column"]: [None] for s in spec}), spec)[0]
