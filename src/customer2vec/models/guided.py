"""Guided embeddings: item and customer vectors trained jointly with a business label.

A customer's vector is the weighted mean of the vectors of the items in their history
(``weighting``), so a new customer gets one from their baskets alone, and items and
customers share one space. Three losses train it, over batches of customers:

* **items**: each line item predicts one of its basket-mates (item2vec's basket context);
* **customers**: each customer vector predicts the customer's distinct items (doc2vec's
  PV-DBOW objective, with the customer vector computed rather than free);
* **label** (when ``label`` is set): a logistic head on the customer vector predicts a
  binary customer label; its cross-entropy, averaged over the batch's labeled customers, is
  added with weight ``label_weight``. Customers without a label train on the first two.

The item vectors start from item2vec's (``n_pretrain_epochs`` of our numba skip-gram over
baskets, ``models.sgns``): a few torch epochs over sampled pairs cannot match the tens of
millions of basket pairs that kernel runs through in seconds, and measured on The Complete
Journey, guided vectors trained from a random start had a category purity of 0.07 against
item2vec's 0.36. The three losses then train everything jointly for ``n_epochs``.

The first two are softmaxes over the items, estimated with ``n_negatives`` shared negatives
and the logQ correction (``models.neural.SampledSoftmax``; exact on catalogues no larger than
``n_negatives``), against output vectors and biases. The item vectors are the input vectors
that customer vectors average, so the label head reaches them through every customer's mean:
items whose buyers carry the label move along the head's direction, while the item loss
keeps basket-mates together (category purity holds; see ``bench/neural_customers.py``).

Caution when scoring the guided vectors on their own label: a customer whose label trained
the vectors is not a fair test case. Hide the test customers' labels from ``fit`` (leave
them empty in the customers table) and score on those, as the tests and the bench do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy.sparse import csr_matrix

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.corpus.matrix import customer_item_matrix
from customer2vec.data.ids import load_array
from customer2vec.errors import ConfigError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.neural import (
    WEIGHTINGS,
    SampledSoftmax,
    add_label_loss,
    customer_labels,
    idf,
    import_torch,
    load_weights,
    log_prior,
    save_weights,
    seed_and_threads,
    sparse_mm,
    train_batches,
    unpack,
    weighted_bags,
)
from customer2vec.models.params import Options
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import check_customers, customer_baskets, customer_counts
from customer2vec.models.sgns import item_embeddings, train_sgns
from customer2vec.vectors.embeddings import Embeddings

_IDF_FILE = "idf.npy"


class Guided(EmbeddingModel, RankingModel):
    """Item and customer vectors trained jointly with a supervised head on a customer label.

    As a ranking model it scores items by the customer-to-items softmax (customer vector .
    output vector + bias) of the customer's history; new customers are averaged the same way.
    That softmax learns the customer's own items, so it keeps repeats (``repeats = True``).

    Parameters
    ----------
    n_factors
        Vector dimension.
    weighting
        How a customer's mean weighs the items it bought (``"log"``, ``"binary"``,
        ``"tfidf"``; see ``models.neural.inputs.WEIGHTINGS``).
    n_negatives
        Shared negatives per batch of the sampled softmaxes.
    ns_exponent
        Exponent of the negatives' distribution (basket count ** ns_exponent).
    n_samples
        Per customer and epoch: items its vector predicts (drawn in proportion to the bag's
        weights), and line items of its baskets that predict a basket-mate.
    n_pretrain_epochs
        item2vec epochs that give the item vectors their start (0: a random start).
    n_epochs
        Joint passes over the customers.
    batch_size
        Customers per gradient step.
    learning_rate
        Adam's step size.
    label
        Customers-table column to guide the vectors with (None: the two embedding losses only).
    label_threshold
        Positive when the value is > this (None: a two-valued column; see ``models.neural.inputs``).
    label_weight
        Weight of the label's cross-entropy against the embedding losses (0: unguided).
    n_threads
        PyTorch CPU threads (0 = all cores).
    random_state
        Seed.
    """

    name = "guided"
    corpus_kind = "baskets+tables"
    repeats = True
    has_customer_vectors = True
    search_space: ClassVar[dict[str, list[Any]]] = {
        "n_factors": [32, 64, 128],
        "n_negatives": [256, 512, 1024],
        "n_epochs": [3, 5, 10],
        "learning_rate": [0.001, 0.003, 0.01],
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"weighting": [Options(*WEIGHTINGS)]}

    def __init__(
        self,
        *,
        n_factors: int = 64,
        weighting: str = "log",
        n_negatives: int = 512,
        ns_exponent: float = 0.75,
        n_samples: int = 50,
        n_pretrain_epochs: int = 10,
        n_epochs: int = 5,
        batch_size: int = 256,
        learning_rate: float = 0.01,
        label: str | None = None,
        label_threshold: float | None = None,
        label_weight: float = 1.0,
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.weighting = weighting
        self.n_negatives = n_negatives
        self.ns_exponent = ns_exponent
        self.n_samples = n_samples
        self.n_pretrain_epochs = n_pretrain_epochs
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.label = label
        self.label_threshold = label_threshold
        self.label_weight = label_weight
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {
            "n_factors": 8,
            "n_epochs": 30,
            "batch_size": 8,
            "learning_rate": 0.05,
            "n_threads": 1,
        }

    def _validate(self) -> None:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_negatives, "n_negatives", minimum=1)
        require_float(self.ns_exponent, "ns_exponent", minimum=-2.0, maximum=2.0)
        require_int(self.n_samples, "n_samples", minimum=1)
        require_int(self.n_pretrain_epochs, "n_pretrain_epochs", minimum=0)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.batch_size, "batch_size", minimum=1)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_float(self.label_weight, "label_weight", minimum=0.0)
        require_int(self.n_threads, "n_threads", minimum=0)

    def fit(self, corpus: BasketCorpus | BasketsWithTables) -> Self:
        self._validate()
        baskets, _, customers = unpack(corpus)
        if baskets.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        labels, label_info = customer_labels(
            customers, baskets.customer_ids, self.label, self.label_threshold
        )
        counts = customer_item_matrix(baskets)
        self._idf = idf(counts)
        bags = weighted_bags(counts, self.weighting, self._idf, norm="l1")

        seed = 0 if self.random_state is None else int(self.random_state)
        torch = seed_and_threads(seed, self.n_threads)
        generator = torch.Generator().manual_seed(seed)
        rng = np.random.default_rng(seed)
        self._net = _network(baskets.n_items, self.n_factors, has_head=labels is not None)
        with torch.no_grad():
            self._net.output_bias.copy_(torch.from_numpy(log_prior(baskets.item_counts)))
            if self.n_pretrain_epochs:
                w_in, w_out = train_sgns(
                    baskets.indptr,
                    baskets.indices,
                    baskets.n_items,
                    baskets.item_counts,
                    n_factors=self.n_factors,
                    n_epochs=self.n_pretrain_epochs,
                    n_threads=self.n_threads or os.cpu_count() or 1,
                    random_state=seed,
                )
                self._net.items.copy_(torch.from_numpy(item_embeddings(w_in, w_out)))
                self._net.output.copy_(torch.from_numpy(w_out))
        softmax = SampledSoftmax(baskets.item_counts, self.n_negatives, self.ns_exponent, generator)
        self._train(torch, generator, rng, baskets, bags, softmax, labels)

        self.item_vectors_ = Embeddings(baskets.item_ids, self._net.items.detach().numpy())
        self.customer_vectors_ = Embeddings(baskets.customer_ids, self._mean(bags), kind="customer")
        self.training_ = label_info
        return self

    # -- training ------------------------------------------------------------------------
    def _train(
        self,
        torch: Any,
        generator: Any,
        rng: np.random.Generator,
        baskets: BasketCorpus,
        bags: csr_matrix,
        softmax: SampledSoftmax,
        labels: np.ndarray | None,
    ) -> None:
        net = self._net
        net.train()
        optimizer = torch.optim.Adam(net.parameters(), lr=self.learning_rate, fused=True)
        label_tensor = None if labels is None else torch.from_numpy(labels)

        def batch_loss(batch: np.ndarray) -> Any:
            rows = np.sort(batch)
            part = bags[rows]
            users = sparse_mm(part, net.items)
            owners, positives = _bag_samples(part, self.n_samples, rng)
            loss = softmax.loss(
                users,
                torch.from_numpy(owners),
                torch.from_numpy(positives),
                net.output,
                net.output_bias,
            )
            centers, mates = _basket_pairs(baskets, rows, self.n_samples * len(rows), rng)
            if len(centers):
                unique, inverse = np.unique(centers, return_inverse=True)
                loss = loss + softmax.loss(
                    net.items[torch.from_numpy(unique)],
                    torch.from_numpy(inverse.astype(np.int64)),
                    torch.from_numpy(mates),
                    net.output,
                    net.output_bias,
                )
            labels = None if label_tensor is None else label_tensor[rows]
            return add_label_loss(torch, loss, net.head, users, labels, self.label_weight)

        train_batches(
            torch,
            optimizer,
            baskets.n_customers,
            self.batch_size,
            self.n_epochs,
            generator,
            batch_loss,
            desc=self.name,
        )
        net.eval()

    # -- vectors and scoring -------------------------------------------------------------
    def _mean(self, bags: csr_matrix) -> np.ndarray:
        """Customer vectors: the bags' weighted means of the item vectors."""
        return np.asarray(bags @ self._net.items.detach().numpy(), dtype=np.float32)

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Customer vector (from the history) . output vectors + output biases."""
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)
        bags = weighted_bags(
            customer_counts(history, customers), self.weighting, self._idf, norm="l1"
        )
        output = self._net.output.detach().numpy()
        bias = self._net.output_bias.detach().numpy()
        return (self._mean(bags) @ output.T + bias).astype(np.float32)

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        state = super()._save_state(directory) or {}
        np.save(directory / _IDF_FILE, self._idf, allow_pickle=False)
        state["weights"] = save_weights(self._net, directory)
        state["has_head"] = self._net.head is not None
        state["training"] = self.training_
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        super()._load_state(directory, state, mmap=mmap)
        self._idf = load_array(directory, _IDF_FILE)
        self.training_ = state.get("training", {})
        net = _network(len(self.item_vectors_), self.n_factors, has_head=state["has_head"])
        self._net = load_weights(net, directory, state["weights"])


def _bag_samples(
    bags: csr_matrix, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(Row, item) for ``n_samples`` items drawn per row, in proportion to its weights.

    Rows sum to 1 (``norm="l1"``), so the running sum of all entries passes ``r`` at the end
    of row ``r - 1``: a draw ``r + u`` (``u`` uniform in [0, 1)) lands in row ``r``.
    """
    n_rows = bags.shape[0]
    owners = np.repeat(np.arange(n_rows, dtype=np.int64), n_samples)
    running = np.cumsum(bags.data, dtype=np.float64)
    picked = np.searchsorted(running, owners + rng.random(len(owners)), side="right")
    # Rounding may push a draw past its row's last entry: clamp it back into the row.
    picked = np.clip(picked, bags.indptr[owners], bags.indptr[owners + 1] - 1)
    return owners, bags.indices[picked].astype(np.int64)


def _basket_pairs(
    baskets: BasketCorpus, customers: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(Item, a random basket-mate) for ``n_pairs`` lines drawn from the customers' baskets.

    Lines are drawn uniformly (with replacement) among those in baskets of two or more items.
    """
    chosen, _, lines = customer_baskets(baskets, customers)
    lengths = baskets.indptr[chosen + 1] - baskets.indptr[chosen]
    size = np.repeat(lengths, lengths)
    start = np.repeat(baskets.indptr[chosen], lengths)
    keep = np.flatnonzero(size > 1)
    if len(keep) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    draw = keep[rng.integers(len(keep), size=n_pairs)]
    lines, size, start = lines[draw], size[draw], start[draw]
    mates = start + (lines - start + rng.integers(1, size)) % size
    return baskets.indices[lines].astype(np.int64), baskets.indices[mates].astype(np.int64)


def _network(n_items: int, n_factors: int, *, has_head: bool) -> Any:
    """Input item vectors (customers are their weighted means), output vectors and biases,
    and the optional label head."""
    torch = import_torch()
    nn = torch.nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.items = nn.Parameter(torch.randn(n_items, n_factors) * n_factors**-0.5)
            self.output = nn.Parameter(torch.zeros(n_items, n_factors))
            self.output_bias = nn.Parameter(torch.zeros(n_items))
            self.head = nn.Linear(n_factors, 1) if has_head else None

    return Network()
