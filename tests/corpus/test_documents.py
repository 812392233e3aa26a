"""build_documents: customers as chronological documents that share the corpus arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer2vec.columns import Columns as C
from customer2vec.corpus import CustomerDocuments, build_baskets, build_documents


@pytest.fixture
def documents(frame_builder, make_dataset) -> CustomerDocuments:
    """ "b": [1, 2] then [2]; "a": [3] then [1, 3] then [4]. "a" sorts first."""
    frame = frame_builder({"b": [[1, 2], [2]], "a": [[3], [1, 3], [4]]})
    frame = frame.sort_values([C.CUSTOMER, C.SEQUENCE], kind="stable", ignore_index=True)
    return build_documents(build_baskets(make_dataset(frame)))


def test_planted_documents(documents: CustomerDocuments) -> None:
    np.testing.assert_array_equal(documents.customer_ids.external, ["a", "b"])
    np.testing.assert_array_equal(documents.item_ids.external, [1, 2, 3, 4])
    np.testing.assert_array_equal(documents.indptr, [0, 4, 7])
    np.testing.assert_array_equal(documents.indices, [2, 0, 2, 3, 0, 1, 1])
    np.testing.assert_array_equal(documents.basket_bounds, [0, 1, 3, 4, 6, 7])
    np.testing.assert_array_equal(documents.basket_indptr, [0, 3, 5])
    np.testing.assert_array_equal(documents.basket_sequence, [1, 2, 3, 1, 2])
    assert (documents.n_customers, documents.n_baskets, documents.n_lines) == (2, 5, 7)
    np.testing.assert_array_equal(documents.document(0), [3, 1, 3, 4])
    assert [b.tolist() for b in documents.baskets_of(0)] == [[3], [1, 3], [4]]
    assert [b.tolist() for b in documents.baskets_of(1)] == [[1, 2], [2]]
    assert documents.as_token_lists() == [["3", "1", "3", "4"], ["1", "2", "2"]]
    with pytest.raises(IndexError):
        documents.document(2)


def test_documents_share_the_corpus_arrays(frame_builder, make_dataset) -> None:
    corpus = build_baskets(make_dataset(frame_builder({1: [[1], [2, 1]], 2: [[3]]})))
    documents = build_documents(corpus)
    assert documents.indices is corpus.indices
    assert documents.basket_bounds is corpus.indptr
    assert documents.item_ids is corpus.item_ids
    assert documents.customer_ids is corpus.customer_ids


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), dedupe=st.booleans())
def test_each_document_is_its_customers_baskets_in_sequence_order(
    transactions_strategy, engine_with, data: st.DataObject, dedupe: bool
) -> None:
    frame: pd.DataFrame = data.draw(transactions_strategy)
    corpus = build_baskets(engine_with(frame), dedupe=dedupe)
    documents = build_documents(corpus)
    assert documents.n_lines == corpus.n_lines
    assert documents.n_baskets == corpus.n_baskets
    assert documents.indptr[-1] == corpus.n_lines
    lines = frame if not dedupe else frame.drop_duplicates([C.CUSTOMER, C.BASKET, C.ITEM])
    for c, customer in enumerate(documents.customer_ids.external):
        mine = lines[lines[C.CUSTOMER] == customer].sort_values(C.SEQUENCE, kind="stable")
        assert documents.document(c).tolist() == mine[C.ITEM].tolist()
        expected = [g[C.ITEM].tolist() for _, g in mine.groupby(C.SEQUENCE, sort=True)]
        assert [b.tolist() for b in documents.baskets_of(c)] == expected
        sequences = documents.basket_sequence[
            documents.basket_indptr[c] : documents.basket_indptr[c + 1]
        ]
        assert (np.diff(sequences) > 0).all()
