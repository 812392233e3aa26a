"""A GRU over each customer's baskets, trained to predict the items of the next basket.

A basket enters the network as the mean of its items' input vectors; a GRU reads a
customer's baskets oldest first, and after each basket its hidden state ``h`` scores every
item ``j`` for the *next* basket as ``h . w_j + b_j`` (multi-label: each item of the next
basket is a positive of a softmax over items, sampled with logQ correction on a large
catalogue; see ``models.neural.SampledSoftmax``). The bias ``b_j`` starts at the item's log
share of baskets, so an untrained network already ranks by popularity and the vectors only
have to learn what differs from it.

Grocery baskets are mostly repeat purchases, which a 64-dimensional state cannot memorize
item by item; with ``repeat_aware`` (the default) each logit also gets
``g(h) * log1p(r_j) + beta_j * [r_j > 0]``, with ``r_j`` the customer's recency-decayed
count of item ``j`` (``repeat_decay`` per basket), ``g(h) >= 0`` a gate read from the state
and ``beta_j`` a learned per-item repeat bias: trained jointly, in the same softmax.

The final hidden state is the customer vector; the softmax weights ``w_j`` are the item
vectors. Histories are cut to their last ``max_baskets`` baskets; in training each customer
contributes a random window of ``max_baskets + 1`` consecutive baskets per epoch, so older
baskets are still seen over the epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import numpy as np

from customer2vec.config import require_int
from customer2vec.corpus.baskets import BasketCorpus, concat_ranges
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

#: Customers encoded at once when scoring (bounds the padded batch tensor).
SCORE_BATCH = 512


class GRU(EmbeddingModel, RankingModel):
    """Next-basket GRU: customer vectors are hidden states, item vectors softmax weights.

    It ranks items for a customer by ``h . w_j + b_j`` (plus the repeat term, see the module
    docstring) with ``h`` the GRU state after the customer's last basket in the history given
    to :meth:`score` (so a new customer, or a session given as one basket, is encoded the same
    way as a training customer). It is a next-basket model (``repeats = True``): items the
    customer bought before stay in the ranking.

    Defaults, on The Complete Journey's last-basket split (``bench/sequence_models.py``):
    recall@10 0.142 with the repeat term and 0.085-0.092 without. ``learning_rate=0.02``
    with ``batch_size=32`` (760 steps) keeps that recall and lifts the item vectors' category
    purity@10 from 0.018 (0.005, batch 128) to 0.063; they stay far below item2vec's: a
    next-basket softmax over 2,469 households gives each item few updates.

    Parameters
    ----------
    n_factors
        Size of the item vectors and of the GRU state (the customer vector).
    max_baskets
        Most recent baskets a customer is encoded from; training windows are one longer.
    n_epochs
        Passes over the customers (one random window per customer and pass).
    batch_size
        Customers per gradient step.
    n_negatives
        Negatives shared by a batch in the sampled softmax; with at least as many as
        there are items, the softmax is exact.
    ns_exponent
        Negatives are drawn with probability ``count ** ns_exponent``.
    learning_rate
        Adam's step size, decayed linearly to zero over training.
    repeat_aware
        Add the learned repeat term to the logits.
    repeat_decay
        Weight of a purchase ``k`` baskets before the latest: ``repeat_decay ** k``.
    n_threads
        Torch CPU threads (0 = every core). One by default: the network runs many small
        operations whose thread synchronization costs more than it saves, and far more on a
        busy machine (a 2-epoch fit on the synthetic demo data took 24-48 s with one thread
        and 210-293 s with two on a shared 2-core machine).
    random_state
        Seed of the initial weights, the windows and the negatives.
    """

    name = "gru"
    repeats = True
    has_customer_vectors = True

    def __init__(
        self,
        *,
        n_factors: int = 64,
        max_baskets: int = 50,
        n_epochs: int = 10,
        batch_size: int = 32,
        n_negatives: int = 1024,
        ns_exponent: float = 0.75,
        learning_rate: float = 0.02,
        repeat_aware: bool = True,
        repeat_decay: float = 0.9,
        n_threads: int = 1,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.max_baskets = max_baskets
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
        return {"n_factors": 16, "n_epochs": 30, "learning_rate": 0.05, "n_threads": 1}

    def _check_params(self) -> None:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.max_baskets, "max_baskets", minimum=1)
        check_softmax_training(self)

    # -- training ------------------------------------------------------------------------
    def fit(self, corpus: BasketCorpus) -> Self:
        self._check_params()
        n_baskets = np.diff(corpus.customer_indptr)
        trainable = np.flatnonzero(n_baskets >= 2)
        if len(trainable) == 0:
            raise ConfigError(
                f"gru learns from a customer's next basket, but none of the {corpus.n_customers} "
                "customers has 2 or more baskets; give it customers with longer histories."
            )
        seed = 0 if self.random_state is None else int(self.random_state)
        torch = seed_and_threads(seed, self.n_threads)
        net = self._network(torch, corpus.n_items, corpus.item_counts)
        generator = torch.Generator().manual_seed(seed)
        softmax = SampledSoftmax(
            corpus.item_counts, self.n_negatives, self.ns_exponent, generator, sparse=True
        )
        rng = np.random.default_rng(seed)
        n_steps = self.n_epochs * -(-len(trainable) // self.batch_size)
        optimizer = SparseAwareAdam(net, self.learning_rate, n_steps)
        window = self.max_baskets + 1
        first = corpus.customer_indptr[:-1]
        bar = progress(total=n_steps, desc="gru", unit="batch")
        with bar:
            for _ in range(self.n_epochs):
                order = rng.permutation(trainable)
                for begin in range(0, len(order), self.batch_size):
                    batch = order[begin : begin + self.batch_size]
                    length = np.minimum(n_baskets[batch], window)
                    slack = n_baskets[batch] - length
                    stops = (
                        first[batch]
                        + length
                        + (rng.random(len(batch)) * (slack + 1)).astype(np.int64)
                    )
                    loss = self._window_loss(torch, net, softmax, corpus, stops - length, stops)
                    optimizer.step(loss)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
        net.eval()
        if not all(bool(torch.isfinite(p).all()) for p in net.parameters()):
            raise FloatingPointError("gru diverged (non-finite weights); lower learning_rate.")
        self.network_ = net
        self.item_vectors_ = Embeddings(corpus.item_ids, net.item_out.weight.detach().numpy())
        everyone = np.arange(corpus.n_customers, dtype=np.int64)
        self.customer_vectors_ = Embeddings(
            corpus.customer_ids, self.encode(corpus, everyone), kind="customer"
        )
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_", "customer_vectors_", "network_")

    # -- encoding and ranking ------------------------------------------------------------
    def encode(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """GRU states (``float32``, one row per customer) after each customer's last basket.

        ``customers`` are internal indices of ``history`` (on this model's item vocabulary);
        only their last ``max_baskets`` baskets are read.
        """
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)
        torch = import_torch()
        out = np.zeros((len(customers), self.n_factors), dtype=np.float32)
        starts, stops = self._windows(history, customers)
        with torch.no_grad():
            for begin in range(0, len(customers), SCORE_BATCH):
                part = slice(begin, begin + SCORE_BATCH)
                states, _, last = _run(torch, self.network_, history, starts[part], stops[part])
                out[part] = states[last].numpy()
        return out

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """``h . w_j + b_j`` (+ the repeat term) with ``h`` the state after the last basket."""
        states = self.encode(history, customers)
        scores = output_scores(self.network_, states)
        if self.repeat_aware:
            starts, stops = self._windows(history, check_customers(history, customers))
            counts = _history_counts(history, starts, stops, self.repeat_decay, last_only=True)
            add_repeat_scores(scores, self.network_, states, counts)
        return scores

    def _windows(self, history: BasketCorpus, customers: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each customer's last ``max_baskets`` baskets as ``[starts, stops)``."""
        stops = history.customer_indptr[customers + 1]
        return np.maximum(history.customer_indptr[customers], stops - self.max_baskets), stops

    def _network(self, torch: Any, n_items: int, item_counts: np.ndarray | None) -> Any:
        """Input item vectors (mean per basket), the GRU, output item vectors and biases."""
        net = torch.nn.Module()
        net.item_in = torch.nn.EmbeddingBag(n_items, self.n_factors, mode="mean", sparse=True)
        # Unit-variance input vectors: a random projection of the items from the start, so
        # customers differ before the vectors learn (at 0.1, every state looked the same).
        torch.nn.init.normal_(net.item_in.weight, std=1.0)
        net.gru = torch.nn.GRU(self.n_factors, self.n_factors, batch_first=True)
        add_item_output(
            torch, net, n_items, self.n_factors, item_counts, repeat_aware=self.repeat_aware
        )
        return net

    def _window_loss(
        self,
        torch: Any,
        net: Any,
        softmax: SampledSoftmax,
        corpus: BasketCorpus,
        starts: np.ndarray,
        stops: np.ndarray,
    ) -> Any:
        """Sampled-softmax loss of predicting each window basket's items from the state before."""
        states, slot, _ = _run(torch, net, corpus, starts, stops)
        baskets = concat_ranges(starts, stops)
        # Every basket but a window's last predicts the basket after it.
        source = np.ones(len(baskets), dtype=bool)
        source[np.cumsum(stops - starts) - 1] = False
        targets = baskets[source] + 1
        items, owners = basket_targets(torch, corpus, targets)
        users = states[torch.from_numpy(slot[source])]
        extra = None
        if self.repeat_aware:
            counts = _history_counts(corpus, starts, stops, self.repeat_decay, last_only=False)

            def extra(candidates: Any) -> tuple[Any, Any]:
                return repeat_extra(net, users, counts, owners, items, candidates)

        return softmax.loss(users, owners, items, net.item_out.weight, net.item_bias, extra=extra)

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        state = super()._save_state(directory) or {}
        state["weights"] = save_weights(self.network_, directory)
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        super()._load_state(directory, state, mmap=mmap)
        if "weights" not in state:
            raise DataValidationError(f"{directory} lacks the gru weights; train and save again.")
        net = self._network(import_torch(), len(self.item_vectors_), None)
        self.network_ = load_weights(net, directory, state["weights"])


def _run(
    torch: Any, net: Any, corpus: BasketCorpus, starts: np.ndarray, stops: np.ndarray
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Run the GRU over the basket windows ``[starts, stops)`` (one per row, padded).

    Returns the states after every basket as a ``(rows * longest, n_factors)`` tensor, the
    row of that tensor for each basket of the windows (in order), and for each window the
    row of its last basket.
    """
    n_baskets = stops - starts
    longest = int(n_baskets.max())
    baskets = concat_ranges(starts, stops)
    lo, hi = corpus.indptr[baskets], corpus.indptr[baskets + 1]
    items = torch.from_numpy(corpus.indices[concat_ranges(lo, hi)].astype(np.int64))
    offsets = torch.from_numpy(np.cumsum(hi - lo) - (hi - lo))
    inputs = bag_rows(net.item_in.weight, items, offsets, mode="mean")
    owner = np.repeat(np.arange(len(starts)), n_baskets)
    step = np.arange(len(baskets)) - np.repeat(np.cumsum(n_baskets) - n_baskets, n_baskets)
    slot = owner * longest + step
    padded = inputs.new_zeros((len(starts) * longest, inputs.shape[1]))
    padded = padded.index_copy(0, torch.from_numpy(slot), inputs)
    # Padding sits after each window's end, so a causal GRU's states up to the end ignore it.
    states, _ = net.gru(padded.view(len(starts), longest, -1))
    last = np.arange(len(starts)) * longest + n_baskets - 1
    return states.reshape(len(starts) * longest, -1), slot, last


def _history_counts(
    corpus: BasketCorpus, starts: np.ndarray, stops: np.ndarray, decay: float, *, last_only: bool
) -> Any:
    """Decayed counts of the items bought up to each position of the windows ``[starts, stops)``.

    Positions are every basket of a window but its last, in order (training: the states that
    predict a next basket), or with ``last_only`` each window's last basket (scoring).
    """
    n_baskets = stops - starts
    baskets = concat_ranges(starts, stops)
    window = np.repeat(np.arange(len(starts)), n_baskets)
    step = np.arange(len(baskets)) - np.repeat(np.cumsum(n_baskets) - n_baskets, n_baskets)
    lo, hi = corpus.indptr[baskets], corpus.indptr[baskets + 1]
    items = corpus.indices[concat_ranges(lo, hi)]
    if last_only:
        rows = np.repeat(window, hi - lo)
        ages = np.repeat(n_baskets[window] - 1 - step, hi - lo)
        return decayed_counts(rows, items, ages, decay, (len(starts), corpus.n_items))
    # A basket at step s reaches the positions s .. L-2 of its window (L baskets long).
    positions = n_baskets - 1
    first_row = np.repeat(np.cumsum(positions) - positions, n_baskets) + step
    reach = np.repeat(np.maximum(n_baskets[window] - 1 - step, 0), hi - lo)
    line_first = np.repeat(first_row, hi - lo)
    rows = concat_ranges(line_first, line_first + reach)
    ages = rows - np.repeat(line_first, reach)
    shape = (int(positions.sum()), corpus.n_items)
    return decayed_counts(rows, np.repeat(items, reach), ages, decay, shape)
