"""Autoencoder customer embeddings: a denoising multinomial autoencoder (Mult-DAE).

Liang, Krishnan, Hoffman & Jebara (2018), "Variational autoencoders for collaborative
filtering": a customer's bag of items, L2-normalized and corrupted by input dropout, goes
through a small tanh encoder to a bottleneck; a linear decoder and a softmax over the items
reconstruct the bag, and the loss is the multinomial negative log-likelihood of the
customer's items. The bottleneck is the customer vector, the decoder's rows are the item
vectors (an item scores ``customer . item + bias``), and the decoder's output ranks items for
a customer, which is Mult-DAE's recommender.

Sparse input: the encoder's first layer multiplies each customer's sparse row into its weight
(``models.neural.sparse_mm``), so only the items a customer bought are read.
The output softmax is dense over the ``max_items`` most frequent items (the vocabulary is
ordered by count, so they are a prefix of it); rarer items get no vector and rank last.

Optional guiding label (``label``, ``label_threshold``, ``label_weight``): a logistic head on
the bottleneck predicts a binary customer label and its cross-entropy, averaged over the
labeled customers of a batch, is added with weight ``label_weight``. The reconstruction term
is per unit of target weight (a mean log-likelihood per item), so both terms are of the
order of one and ``label_weight=1`` weighs them alike. Customers without a label train on
the reconstruction alone. See ``models.neural.inputs`` for how a column becomes a label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy.sparse import csr_matrix, diags

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.corpus.matrix import customer_item_matrix
from customer2vec.data.ids import IdMap, load_array
from customer2vec.errors import ConfigError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.neural import (
    WEIGHTINGS,
    add_label_loss,
    customer_labels,
    idf,
    import_torch,
    item_groups,
    load_weights,
    log_counts,
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
from customer2vec.models.scoring import check_customers, customer_counts
from customer2vec.vectors.embeddings import Embeddings

INPUTS = ("items", "categories")
_VOCABULARY = "vocabulary_ids"
_IDF_FILE = "idf.npy"
_GROUPS_FILE = "item_groups.npy"


class Autoencoder(EmbeddingModel, RankingModel):
    """Customer vectors from a denoising autoencoder of their bag of items (Mult-DAE).

    As a ranking model it scores every item by the decoder's output for the customer's
    encoded history (new customers are encoded the same way); items outside the
    ``max_items`` most frequent score ``-inf``. It keeps repeat purchases (``repeats = True``):
    the reconstruction ranks the items a customer buys again and again first, which is what a
    grocery next basket mostly holds.

    Parameters
    ----------
    input
        What the encoder sees: ``"items"`` (the bag of items) or ``"categories"`` (the
        customer's shares of item groups from the items table, see ``attribute``). The decoder
        always reconstructs the bag of items, so item vectors and rankings exist either way.
    attribute
        Items-table column that groups items for ``input="categories"``; None takes the
        first of ``product_category``, ``category``, ``department``, ``aisle`` present.
    max_items
        Items with vectors and scores: the most frequent ones (0 = all).
    weighting
        Entries of a customer's bag, counting the baskets that hold each item: ``"log"``
        (``log(1 + count)``), ``"binary"`` (Mult-DAE's) or ``"tfidf"`` (log count x smoothed
        idf of the training customers). Rows are L2-normalized for the encoder; the
        reconstruction target is ``log(1 + count)``.
    n_factors
        Bottleneck size: the customer and item vector dimension.
    n_hidden
        Width of the encoder's hidden tanh layer (0: the bag maps straight to the bottleneck).
    dropout
        Share of a bag's entries dropped at random in training (the denoising).
    n_epochs
        Passes over the customers.
    batch_size
        Customers per gradient step.
    learning_rate
        Adam's step size.
    weight_decay
        Adam's L2 penalty on every weight.
    label
        Customers-table column to guide the bottleneck with (None: no label).
    label_threshold
        Positive when the value is > this (None: a two-valued column; see ``models.neural.inputs``).
    label_weight
        Weight of the label's cross-entropy against the reconstruction.
    n_threads
        PyTorch CPU threads (0 = all cores).
    random_state
        Seed.
    """

    name = "autoencoder"
    corpus_kind = "baskets+tables"
    repeats = True
    has_customer_vectors = True
    search_space: ClassVar[dict[str, list[Any]]] = {
        "n_factors": [32, 64, 128],
        "n_hidden": [0, 256, 600],
        "dropout": [0.2, 0.5],
        "weighting": list(WEIGHTINGS),
        "n_epochs": [20, 50, 100],
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "input": [Options(*INPUTS)],
        "weighting": [Options(*WEIGHTINGS)],
    }

    def __init__(
        self,
        *,
        input: str = "items",
        attribute: str | None = None,
        max_items: int = 10_000,
        weighting: str = "log",
        n_factors: int = 64,
        n_hidden: int = 0,
        dropout: float = 0.5,
        n_epochs: int = 30,
        batch_size: int = 256,
        learning_rate: float = 0.01,
        weight_decay: float = 0.0,
        label: str | None = None,
        label_threshold: float | None = None,
        label_weight: float = 1.0,
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.input = input
        self.attribute = attribute
        self.max_items = max_items
        self.weighting = weighting
        self.n_factors = n_factors
        self.n_hidden = n_hidden
        self.dropout = dropout
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.label = label
        self.label_threshold = label_threshold
        self.label_weight = label_weight
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {
            "n_factors": 8,
            "n_hidden": 0,
            "n_epochs": 60,
            "batch_size": 8,
            "learning_rate": 0.01,
            "n_threads": 1,
        }

    def _validate(self) -> None:
        require_int(self.max_items, "max_items", minimum=0)
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_hidden, "n_hidden", minimum=0)
        require_float(self.dropout, "dropout", minimum=0.0, maximum=0.95)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.batch_size, "batch_size", minimum=1)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_float(self.weight_decay, "weight_decay", minimum=0.0)
        require_float(self.label_weight, "label_weight", minimum=0.0)
        require_int(self.n_threads, "n_threads", minimum=0)

    def fit(self, corpus: BasketCorpus | BasketsWithTables) -> Self:
        self._validate()
        baskets, items, customers = unpack(corpus)
        if baskets.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        labels, label_info = customer_labels(
            customers, baskets.customer_ids, self.label, self.label_threshold
        )
        counts = customer_item_matrix(baskets)
        n_outputs = min(self.max_items or baskets.n_items, baskets.n_items)
        self._idf = idf(counts)
        self._groups = None
        if self.input == "categories":
            self._groups, names, attribute = item_groups(items, baskets.item_ids, self.attribute)
            label_info = {**label_info, "attribute": attribute, "n_groups": len(names)}
        self._n_outputs = n_outputs
        inputs = self._inputs(counts)
        targets = log_counts(counts[:, :n_outputs])

        seed = 0 if self.random_state is None else int(self.random_state)
        torch = seed_and_threads(seed, self.n_threads)
        generator = torch.Generator().manual_seed(seed)
        self._net = _network(inputs.shape[1], n_outputs, self, has_head=labels is not None)
        with torch.no_grad():  # start from popularity: the vectors then learn the rest
            self._net.decoder.bias.copy_(
                torch.from_numpy(log_prior(baskets.item_counts[:n_outputs]))
            )
        self._train(torch, generator, inputs, targets, labels)

        self.item_ids_ = baskets.item_ids
        self.item_vectors_ = Embeddings(
            IdMap(baskets.item_ids.external[:n_outputs], kind="item"),
            self._net.decoder.weight.detach().numpy().copy(),
        )
        self.customer_vectors_ = Embeddings(
            baskets.customer_ids, self._encode(inputs), kind="customer"
        )
        self.training_ = {**label_info, "n_inputs": int(inputs.shape[1]), "n_items": n_outputs}
        return self

    # -- training ------------------------------------------------------------------------
    def _train(
        self,
        torch: Any,
        generator: Any,
        inputs: csr_matrix,
        targets: csr_matrix,
        labels: np.ndarray | None,
    ) -> None:
        net = self._net
        net.train()
        optimizer = torch.optim.Adam(
            net.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay, fused=True
        )
        label_tensor = None if labels is None else torch.from_numpy(labels)
        keep = 1.0 - self.dropout

        def batch_loss(rows: np.ndarray) -> Any:
            part = inputs[rows]
            if self.dropout > 0:
                mask = torch.rand(part.nnz, generator=generator).numpy() < keep
                part = csr_matrix((part.data * mask / keep, part.indices, part.indptr), part.shape)
            z = net.encode(part)
            loss = _reconstruction_loss(torch, z, net.decoder, targets[rows])
            labels = None if label_tensor is None else label_tensor[rows]
            return add_label_loss(torch, loss, net.head, z, labels, self.label_weight)

        train_batches(
            torch,
            optimizer,
            inputs.shape[0],
            self.batch_size,
            self.n_epochs,
            generator,
            batch_loss,
            desc=self.name,
        )
        net.eval()

    # -- encoding and scoring ------------------------------------------------------------
    def _inputs(self, counts: csr_matrix) -> csr_matrix:
        """Encoder input rows of customers x items ``counts`` (float32 CSR)."""
        if self._groups is not None:
            n_groups = int(self._groups.max()) + 1 if len(self._groups) else 1
            indicator = csr_matrix(
                (
                    np.ones(len(self._groups), dtype=np.float32),
                    (np.arange(len(self._groups)), self._groups),
                ),
                shape=(counts.shape[1], n_groups),
            )
            grouped = csr_matrix(counts @ indicator)
            return _l2_rows(grouped)
        return weighted_bags(
            counts[:, : self._n_outputs], self.weighting, self._idf[: self._n_outputs], norm="l2"
        )

    def _encode(self, inputs: csr_matrix) -> np.ndarray:
        """Bottleneck vectors of input rows (no dropout), in batches."""
        torch = import_torch()
        out = np.empty((inputs.shape[0], self.n_factors), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, inputs.shape[0], 1024):
                rows = np.arange(start, min(start + 1024, inputs.shape[0]))
                out[rows] = self._net.encode(inputs[rows]).numpy()
        return out

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """The decoder's logits for each customer's encoded history; rare items ``-inf``."""
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_ids_))
        customers = check_customers(history, customers)
        z = self._encode(self._inputs(customer_counts(history, customers)))
        out = np.full((len(customers), len(self.item_ids_)), -np.inf, dtype=np.float32)
        decoder = self._net.decoder
        weight = decoder.weight.detach().numpy()
        bias = decoder.bias.detach().numpy()
        out[:, : weight.shape[0]] = z @ weight.T + bias
        return out

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_", "item_ids_")

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        state = super()._save_state(directory) or {}
        self.item_ids_.save(directory, _VOCABULARY)
        np.save(directory / _IDF_FILE, self._idf, allow_pickle=False)
        if self._groups is not None:
            np.save(directory / _GROUPS_FILE, self._groups, allow_pickle=False)
        state["weights"] = save_weights(self._net, directory)
        state["n_inputs"] = int(self._net.encoder.shape[0])
        state["n_items"] = self._n_outputs
        state["has_head"] = self._net.head is not None
        state["training"] = self.training_
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        super()._load_state(directory, state, mmap=mmap)
        self.item_ids_ = IdMap.load(directory, _VOCABULARY, kind="item")
        self._idf = load_array(directory, _IDF_FILE)
        groups = directory / _GROUPS_FILE
        self._groups = load_array(directory, _GROUPS_FILE) if groups.is_file() else None
        self._n_outputs = int(state["n_items"])
        self.training_ = state.get("training", {})
        net = _network(state["n_inputs"], self._n_outputs, self, has_head=state["has_head"])
        self._net = load_weights(net, directory, state["weights"])


def _network(n_inputs: int, n_outputs: int, model: Autoencoder, *, has_head: bool) -> Any:
    """The encoder (sparse rows x weight, tanh layers), linear decoder, optional label head."""
    torch = import_torch()
    nn = torch.nn

    class Network(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            width = model.n_hidden or model.n_factors
            self.encoder = nn.Parameter(torch.empty(n_inputs, width))
            nn.init.xavier_uniform_(self.encoder)
            self.encoder_bias = nn.Parameter(torch.zeros(width))
            self.hidden = nn.Linear(width, model.n_factors) if model.n_hidden else None
            self.decoder = nn.Linear(model.n_factors, n_outputs)
            # Small item vectors at start: cosine neighbors then reflect what training
            # taught, not the draw (rare items get few updates).
            nn.init.normal_(self.decoder.weight, std=0.01)
            self.head = nn.Linear(model.n_factors, 1) if has_head else None

        def encode(self, rows: csr_matrix) -> Any:
            h = torch.tanh(sparse_mm(rows, self.encoder) + self.encoder_bias)
            return h if self.hidden is None else torch.tanh(self.hidden(h))

    return Network()


def _reconstruction_loss(torch: Any, z: Any, decoder: Any, target: csr_matrix) -> Any:
    """Mean over rows of the multinomial NLL per unit of target weight.

    With ``y`` a row's target scaled to sum 1, ``-sum_j y_j log softmax(logits)_j =
    logsumexp(logits) - z . (y @ W) - y @ b``: the target stays sparse and meets the decoder
    through ``sparse_mm``, so no dense target and no scatter of the picked logits.
    """
    mass = np.asarray(target.sum(axis=1)).ravel()
    scaled = csr_matrix(diags(1.0 / np.maximum(mass, 1e-12)) @ target, dtype=np.float32)
    fit = (z * sparse_mm(scaled, decoder.weight)).sum(1)
    fit = fit + sparse_mm(scaled, decoder.bias[:, None]).squeeze(1)
    has = torch.from_numpy(mass > 0)
    return ((torch.logsumexp(decoder(z), dim=1) - fit) * has).mean()


def _l2_rows(matrix: csr_matrix) -> csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return csr_matrix(diags(1.0 / np.maximum(norms, 1e-12)) @ matrix, dtype=np.float32)
