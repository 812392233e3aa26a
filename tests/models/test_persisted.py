"""The ``persisted`` declaration (``models.base``): checked when a class is defined."""

from __future__ import annotations

from typing import ClassVar

import pytest

from customer2vec.models.base import EmbeddingModel


def test_persisted_entries_add_up_along_the_bases():
    class Extra(EmbeddingModel):
        persisted: ClassVar[dict[str, str]] = {"extra_": "array", "note_": "scalar:memo?"}

        def fit(self, corpus):
            return self

    entries = [(e.attr, e.kind, e.name, e.optional) for e in Extra._persisted]
    assert entries == [
        ("item_vectors_", "embeddings", "item", False),
        ("customer_vectors_", "embeddings", "customer", True),
        ("extra_", "array", "extra", False),
        ("note_", "scalar", "memo", True),
    ]


@pytest.mark.parametrize(("attr", "spec"), [("extra_", "pickle"), ("extra", "array")])
def test_a_bad_persisted_entry_fails_at_class_definition(attr, spec):
    with pytest.raises(TypeError, match="persisted"):

        class Bad(EmbeddingModel):
            persisted: ClassVar[dict[str, str]] = {attr: spec}

            def fit(self, corpus):
                return self
