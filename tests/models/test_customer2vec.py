"""customer2vec (doc2vec over customers): planted tribes, inference, long histories, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_raw_transactions
from customer2vec.corpus import build_documents
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, UnknownIdError
from customer2vec.models import load_model
from customer2vec.models.customer2vec import Customer2Vec
from customer2vec.models.sgns import train_doc2vec

#: Small and single-threaded (reproducible). ``sample=0``: with 16 items every item is above
#: word2vec's frequency threshold and subsampling would drop most of the tiny corpus.
SMALL = {"n_factors": 16, "sample": 0.0, "n_threads": 1, "random_state": 0}
MODES = ["dbow", "dm"]


def make_corpus(customers: dict[str, list[list[str]]]) -> BasketCorpus:
    """A BasketCorpus from ``{customer: [basket, ...]}`` (baskets oldest first)."""
    names = sorted(customers)
    baskets = [basket for name in names for basket in customers[name]]
    flat = np.array([item for basket in baskets for item in basket], dtype=object)
    values, counts = np.unique(flat, return_counts=True)
    order = np.lexsort((values, -counts))  # word2vec vocabulary: descending count, then id
    vocabulary = IdMap(values[order], kind="item")
    return BasketCorpus(
        item_ids=vocabulary,
        indptr=np.cumsum([0] + [len(b) for b in baskets]).astype(np.int64),
        indices=vocabulary.to_internal(flat).astype(np.int32),
        customer_ids=IdMap(names, kind="customer"),
        basket_customer=np.repeat(
            np.arange(len(names), dtype=np.int32), [len(customers[n]) for n in names]
        ),
        basket_sequence=np.concatenate(
            [np.arange(1, len(customers[n]) + 1, dtype=np.int32) for n in names]
        ),
        basket_time=None,
        item_counts=counts[order].astype(np.int64),
    )


def tribes() -> dict[str, list[list[str]]]:
    """c0-c14 buy only a* items, c15-c29 only b* items (6 baskets of 3)."""
    raw = make_raw_transactions(customers_per_group=15, baskets_per_customer=6, basket_size=3)
    return {
        client: [list(rows["sku"]) for _, rows in lines.groupby("ticket", sort=True)]
        for client, lines in raw.groupby("client", sort=False)
    }


def tribe(customer: str) -> str:
    return "a" if int(customer[1:]) < 15 else "b"


@pytest.fixture(scope="module")
def corpus() -> BasketCorpus:
    return make_corpus(tribes())


@pytest.fixture(scope="module", params=MODES)
def model(request, corpus) -> Customer2Vec:
    return Customer2Vec(mode=request.param, **SMALL).fit(corpus)


def test_customers_of_a_tribe_are_each_others_nearest_neighbors(model):
    customers = model.customer_vectors_
    assert customers.kind == "customer" and len(customers) == 30
    for customer in customers.keys:
        hits = customers.similar(customer, n=5)
        assert all(tribe(hit) == tribe(customer) for hit in hits.ids), (customer, hits.ids)


def test_item_vectors_share_the_space_of_customer_vectors(model):
    # Items and customers are both inputs to the same output layer: a customer's nearest
    # items are those of its tribe.
    for customer in ("c0", "c20"):
        hits = model.item_vectors_.similar(model.customer_vectors_[customer], n=4)
        assert all(item[0] == tribe(customer) for item in hits.ids), (customer, hits.ids)


def test_infer_is_deterministic_and_places_new_customers_in_their_tribe(model):
    history_a = [["a1", "a2", "a3"], ["a4", "a5", "a6"], ["a0", "a7", "a2"]]
    history_b = ["b1", "b2", "b5", "b6"]  # a flat list is one basket (a session)
    first = model.infer([history_a, history_b], n_epochs=50)
    assert first.shape == (2, 16) and first.dtype == np.float32
    for _ in range(2):
        np.testing.assert_array_equal(model.infer([history_a, history_b], n_epochs=50), first)
    # A document's vector does not depend on the rest of the batch.
    np.testing.assert_array_equal(model.infer([history_b], n_epochs=50)[0], first[1])
    for vector, expected in zip(first, "ab", strict=True):
        hits = model.customer_vectors_.similar(vector, n=5)
        assert all(tribe(hit) == expected for hit in hits.ids), (expected, hits.ids)


def test_infer_of_training_customers_lands_in_their_tribe(model, corpus):
    documents = build_documents(corpus)
    histories = [
        [list(basket) for basket in documents.baskets_of(c)] for c in range(documents.n_customers)
    ]
    inferred = model.infer(histories, n_epochs=50)
    for customer, vector in zip(documents.customer_ids.external, inferred, strict=True):
        best = model.customer_vectors_.similar(vector, n=1).ids[0]
        assert tribe(best) == tribe(customer)


def test_infer_is_reproducible_with_threads(corpus):
    model = Customer2Vec(**SMALL).fit(corpus)
    documents = [["a1", "a2"], ["b3"], [["a4"], ["a5", "a6"]], ["b1", "b2", "b3"]] * 3
    single = model.infer(documents)
    model.n_threads = 2
    np.testing.assert_array_equal(model.infer(documents), single)


def test_infer_ignores_unknown_items_and_refuses_documents_without_any(model):
    np.testing.assert_array_equal(model.infer([["a1", "zz", "a2"]]), model.infer([["a1", "a2"]]))
    with pytest.raises(UnknownIdError, match="document 1 holds no item known"):
        model.infer([["a1"], ["zz", "yy"]])
    with pytest.raises(UnknownIdError, match="document 0 holds no item known"):
        model.infer([[]])
    with pytest.raises(DataValidationError, match="mixes item ids and baskets"):
        model.infer([["a1", ["a2"]]])
    with pytest.raises(DataValidationError, match="must be a list of item ids"):
        model.infer(["a1"])
    assert model.infer([]).shape == (0, 16)


def test_a_history_longer_than_10000_tokens_is_used_in_full():
    # gensim cuts documents at 10,000 tokens: "long" would lose its last 2,000 (all b*).
    rng = np.random.default_rng(0)
    a_items, b_items = [f"a{i}" for i in range(8)], [f"b{i}" for i in range(8)]
    early = [list(rng.choice(a_items, 3, replace=False)) for _ in range(3400)]
    customers = tribes()
    customers["long"] = early + [list(rng.choice(b_items, 3, replace=False)) for _ in range(600)]
    customers["cut"] = [*early[:3333], ["a0"]]  # "long" as a 10,000-token cap would leave it
    corpus = make_corpus(customers)
    documents = build_documents(corpus)
    lengths = dict(zip(documents.customer_ids.external, documents.row_lengths(), strict=True))
    assert (lengths["long"], lengths["cut"]) == (12_000, 10_000)

    settings = {"window": 5, "negative": 5, "ns_exponent": 0.75, "min_learning_rate": 1e-4}
    *_, n_tokens = train_doc2vec(
        documents, corpus.item_counts, mode="dbow", n_factors=16, n_epochs=3, sample=0.0,
        learning_rate=0.05, n_threads=1, random_state=0, **settings,
    )  # fmt: skip
    assert n_tokens == 3 * corpus.n_lines  # every token of every document, every epoch

    model = Customer2Vec(**{**SMALL, "n_epochs": 3}).fit(corpus)
    b_rows = corpus.item_ids.to_internal(b_items)

    def b_score(customer: str) -> float:
        """Mean logit of the b* items for this customer."""
        return float(np.mean(model.output_vectors_[b_rows] @ model.customer_vectors_[customer]))

    # The late b* baskets raise the b* items' scores far above those of the truncated twin.
    assert b_score("long") > b_score("cut") + 2.0, (b_score("long"), b_score("cut"))


def test_save_load_keeps_vectors_and_infer_identical(model, tmp_path):
    documents = [[["a1", "a2"], ["a3"]], ["b1", "b4"]]
    before = model.infer(documents)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, Customer2Vec) and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.customer_vectors_.vectors, model.customer_vectors_.vectors)
    np.testing.assert_array_equal(loaded.customer_vectors_.keys, model.customer_vectors_.keys)
    np.testing.assert_array_equal(loaded.infer(documents), before)
    assert not list((tmp_path / "m").glob("*.pkl"))
    for file in (tmp_path / "m").glob("*.npy"):
        np.load(file, allow_pickle=False)  # every array loads without pickle


def test_invalid_parameters_raise_config_error(corpus):
    with pytest.raises(ConfigError, match="`mode` must be one of 'dbow', 'dm'"):
        Customer2Vec(mode="pvdm").fit(corpus)
    with pytest.raises(ConfigError, match="`window` must be an int >= 1"):
        Customer2Vec(window=0).fit(corpus)
    model = Customer2Vec(**SMALL).fit(corpus)
    with pytest.raises(ConfigError, match="`n_epochs` must be an int >= 1"):
        model.infer([["a1"]], n_epochs=0)
