"""node2vec: skip-gram over biased random walks on a graph (Grover & Leskovec 2016).

The graph is the item co-purchase graph of the baskets (``graph="baskets"``, see
``corpus.graph.item_graph``), the graph of "frequently bought together" lists
(``graph="copurchase"``) or any entity graph read from an edge list (``graph="edges"``,
e.g. payments between customers). Walks come from ``corpus.walks.node2vec_walks``
(numba, parallel, rejection-sampled second-order steps); the skip-gram is the SGNS kernel
of item2vec in its window mode (``models.sgns``), so each walk is read as a sentence.

Defaults, measured on The Complete Journey (share of the 10 nearest neighbors of the 13K
items bought >= 20 times in their product category, neighbors among those items; item2vec's
defaults: 0.365). Item graph: cosine weights, pairs sharing at least 2 baskets
(``min_count``), each item's 10 heaviest edges (``max_degree=10``): 0.288. At window 2, 10
edges give 0.278, every pair (2.2M edges instead of 0.18M) 0.250, 5 edges 0.264, 20 edges
0.267 (0.277 at window 5); count weights 0.236 and PPMI 0.216. The derived co-purchase lists
(``graph="copurchase"``, each item's 10 best partners by the same cosine) are about the same
graph. Skip-gram window 5 (2: 0.278, 3: 0.283, 10: 0.285 for twice the time),
``learning_rate=0.1`` as item2vec (0.025, word2vec's default, lost 0.04 in a first
comparison). ``p = q = 1``: ``q=0.5`` gives 0.290 and ``q=2`` 0.286, within noise, and
first-order walks skip the second-order test. No subsampling (``sample=0``; 1e-3 changed
nothing, and would discard most of a small graph's walks). 10 walks of 40 nodes per item and
one epoch: twice the walks or three epochs added about 0.01 for two or three times the
training time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.corpus.copurchase import CopurchaseLists, derive_copurchase
from customer2vec.corpus.graph import (
    BASKET_WEIGHTS,
    SOURCE,
    TARGET,
    WEIGHT,
    Graph,
    copurchase_graph,
    item_graph,
    read_edges,
)
from customer2vec.corpus.walks import node2vec_walks
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.params import Options
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import RECENT_BASKETS, check_customers, customer_counts
from customer2vec.models.sgns import item_embeddings, train_sgns
from customer2vec.vectors.embeddings import Embeddings

GRAPHS = ("baskets", "copurchase", "edges")


class Node2Vec(EmbeddingModel, RankingModel):
    """Node vectors from skip-gram over node2vec random walks.

    ``graph="baskets"`` (default) and ``graph="copurchase"`` embed items: the vectors are
    item vectors, and the model ranks like item2vec (a discovery recommender: cosine to
    the customer's latest items). ``graph="edges"`` embeds the entities of an edge list
    (e.g. customers linked by payments): ``similar`` and ``export`` then take and return
    those node ids in place of item ids, and the model cannot rank items. Only nodes with
    at least one edge get a vector.

    Parameters
    ----------
    graph
        ``"baskets"``: items linked by co-purchase within baskets; ``"copurchase"``: items
        linked by the dataset's co-purchase lists (derived from the baskets when it has
        none); ``"edges"``: the edge list named by ``edges``.
    edges
        Path of a CSV or Parquet edge list (``graph="edges"`` only).
    source_col, target_col, weight_col
        Edge-list columns; the default ``weight`` column is optional, ``""`` ignores it.
    directed
        Walk edge-list edges one way only.
    weight
        Item-graph edge weight (``graph="baskets"``): ``"cosine"``, ``"count"`` or
        ``"ppmi"`` (see ``corpus.graph``).
    min_count
        Item-graph pairs must share at least this many baskets.
    max_degree
        Item graph: keep each item's heaviest edges, this many (0: all).
    p, q
        node2vec return and in-out parameters (1, 1: plain first-order walks, fastest).
    walk_length, n_walks
        Nodes per walk and walks per node.
    window
        Skip-gram half-window over a walk.
    n_factors, n_epochs, negative, sample, learning_rate
        Skip-gram: dimension, passes over the walks, negatives per pair, subsampling
        threshold of frequent nodes (0: none), initial rate (decayed linearly).
    n_threads
        Threads for walks and training; 0 uses every core. Walks do not depend on it;
        training with more than one thread is Hogwild and not bit-reproducible.
    random_state
        Seed.
    """

    name = "node2vec"
    repeats = False
    # Only items with an edge have vectors: `score` maps any history onto them.
    maps_history_items = True
    persisted: ClassVar[dict[str, str]] = {"graph_stats_": "scalar:graph?"}
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "graph": [Options(*GRAPHS)],
        "edges": [str, Path],
        "weight": [Options(*BASKET_WEIGHTS)],
    }

    def __init__(
        self,
        *,
        graph: str = "baskets",
        edges: str | Path = "",
        source_col: str = SOURCE,
        target_col: str = TARGET,
        weight_col: str = WEIGHT,
        directed: bool = False,
        weight: str = "cosine",
        min_count: int = 2,
        max_degree: int = 10,
        p: float = 1.0,
        q: float = 1.0,
        walk_length: int = 40,
        n_walks: int = 10,
        window: int = 5,
        n_factors: int = 64,
        n_epochs: int = 1,
        negative: int = 5,
        sample: float = 0.0,
        learning_rate: float = 0.1,
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.graph = graph
        self.edges = edges
        self.source_col = source_col
        self.target_col = target_col
        self.weight_col = weight_col
        self.directed = directed
        self.weight = weight
        self.min_count = min_count
        self.max_degree = max_degree
        self.p = p
        self.q = q
        self.walk_length = walk_length
        self.n_walks = n_walks
        self.window = window
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.negative = negative
        self.sample = sample
        self.learning_rate = learning_rate
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 16, "walk_length": 20, "n_threads": 1}

    @property  # type: ignore[override]
    def corpus_kind(self) -> str:
        """The co-purchase lists for ``graph="copurchase"``, else the baskets."""
        return "copurchase" if self.graph == "copurchase" else "baskets"

    def fit(self, corpus: BasketCorpus | BasketsWithTables | CopurchaseLists | Graph) -> Self:
        """Build the graph (a ``Graph`` is used as given), walk it and train the skip-gram."""
        self._validate()
        self._history_cache = None
        graph = self.build_graph(corpus)
        if graph.adjacency.nnz == 0:
            raise DataValidationError(
                f"the {graph.source} graph has no edges, so there is nothing to walk"
                + (
                    f" (no two items share {self.min_count} baskets). Lower min_count or "
                    "use more baskets."
                    if graph.source == "baskets"
                    else "."
                )
            )
        threads = self.n_threads or os.cpu_count() or 1
        seed = 0 if self.random_state is None else int(self.random_state)
        walks = node2vec_walks(
            graph,
            walk_length=self.walk_length,
            n_walks=self.n_walks,
            p=self.p,
            q=self.q,
            n_threads=threads,
            random_state=seed,
        )
        counts = np.bincount(walks.indices, minlength=graph.n_nodes).astype(np.int64)
        w_in, w_out = train_sgns(
            walks.indptr,
            walks.indices,
            graph.n_nodes,
            counts,
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            negative=self.negative,
            sample=self.sample,
            learning_rate=self.learning_rate,
            min_learning_rate=self.learning_rate * 1e-3,
            context="window",
            window=self.window,
            n_threads=threads,
            random_state=seed,
        )
        nodes = graph.connected()
        vectors = item_embeddings(w_in[nodes], w_out[nodes])
        self.item_vectors_ = Embeddings(
            IdMap(graph.node_ids.to_external(nodes), kind="item"), vectors
        )
        self.graph_stats_ = {
            "source": graph.source,
            "nodes": graph.n_nodes,
            "edges": graph.n_edges,
            "walked_nodes": len(nodes),
            "walk_tokens": walks.n_lines,
        }
        return self

    def build_graph(self, corpus: Any) -> Graph:
        """The graph ``fit`` walks, from its corpus (see ``graph``)."""
        if isinstance(corpus, Graph):
            return corpus
        if isinstance(corpus, BasketsWithTables):
            corpus = corpus.baskets
        if self.graph == "edges":
            if not self.edges:
                raise ConfigError(
                    "graph='edges' needs the edge list: pass --param edges=PATH "
                    "(a CSV or Parquet file with source and target columns)."
                )
            return read_edges(
                Path(self.edges),
                source_col=self.source_col,
                target_col=self.target_col,
                weight_col=self.weight_col or None,
                directed=self.directed,
            )
        if self.graph == "copurchase":
            if isinstance(corpus, BasketCorpus):
                corpus = derive_copurchase(corpus)
            if not isinstance(corpus, CopurchaseLists):
                raise DataValidationError(
                    f"graph='copurchase' trains on co-purchase lists or baskets; got "
                    f"{type(corpus).__name__}."
                )
            return copurchase_graph(corpus)
        if not isinstance(corpus, BasketCorpus):
            raise DataValidationError(
                f"graph='baskets' trains on a BasketCorpus (build_baskets); got "
                f"{type(corpus).__name__}. Pass graph='copurchase' for co-purchase lists."
            )
        if corpus.n_lines == 0:
            raise DataValidationError("the corpus has no baskets to build a graph from.")
        return item_graph(
            corpus, weight=self.weight, min_count=self.min_count, max_degree=self.max_degree
        )

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Cosine of every item to the mean unit vector of the customer's latest items.

        Items without a vector (no edge in the graph) get ``-inf``.
        """
        self.check_fitted()
        source = (getattr(self, "graph_stats_", None) or {}).get("source", self.graph)
        if source not in ("baskets", "copurchase"):
            raise DataValidationError(
                "this node2vec model embeds the nodes of an edge list, not items; it cannot "
                "rank items. Train it with graph='baskets' or graph='copurchase' to recommend."
            )
        customers = check_customers(history, customers)
        unit, known = self._history_vectors(history)
        recent = customer_counts(history, customers, last=RECENT_BASKETS)
        profile = np.asarray(recent @ unit, dtype=np.float32)
        profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
        scores = profile @ unit.T
        scores[:, ~known] = -np.inf
        return scores

    def _history_vectors(self, history: BasketCorpus) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors in the history's item order (zeros without one), and which exist.

        Kept for the last vocabulary seen, so that a recommender's repeated calls on one
        history do not map ids again.
        """
        cached = getattr(self, "_history_cache", None)
        if cached is not None and cached[0] is history.item_ids:
            return cached[1], cached[2]
        rows = self.item_vectors_.id_map.to_internal(
            history.item_ids.external, on_unknown="missing"
        )
        known = rows >= 0
        unit = np.zeros((history.n_items, self.item_vectors_.dim), dtype=np.float32)
        unit[known] = self.item_vectors_.unit_vectors[rows[known]]
        self._history_cache = (history.item_ids, unit, known)
        return unit, known

    def _validate(self) -> None:
        require_int(self.min_count, "min_count", minimum=1)
        require_int(self.max_degree, "max_degree", minimum=0)
        require_float(self.p, "p", minimum=0.01, maximum=100.0)
        require_float(self.q, "q", minimum=0.01, maximum=100.0)
        require_int(self.walk_length, "walk_length", minimum=2)
        require_int(self.n_walks, "n_walks", minimum=1)
        require_int(self.window, "window", minimum=1)
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.negative, "negative", minimum=1)
        require_float(self.sample, "sample", minimum=0.0)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_int(self.n_threads, "n_threads", minimum=0)
        if self.random_state is not None:
            require_int(self.random_state, "random_state", minimum=0)

    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        self._history_cache = None
