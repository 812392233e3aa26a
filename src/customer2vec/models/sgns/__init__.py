"""The SGNS engine: numba training loops of the skip-gram family, shared by several models.

* :mod:`.kernels`: the compiled steps every loop inlines (random stream, negatives, updates);
* :mod:`.sampling`: alias tables, subsampling, start vectors and seeds (Python side);
* :mod:`.shards`: Hogwild threads over token-balanced shards;
* :mod:`.baskets`: item2vec over baskets or sessions (:func:`train_sgns`), also node2vec's
  walks and the guided model's pre-training;
* :mod:`.doc2vec`: customer2vec's PV-DBOW / PV-DM training and inference;
* :mod:`.attributes`: attr2vec's items plus attribute tokens.

With one thread and a fixed ``random_state`` every loop gives bit-identical vectors. The
loops are compiled with ``cache=True`` (numba's on-disk cache beside each module);
:func:`warmup` compiles (or loads) the item2vec loops ahead of time.
"""

from __future__ import annotations

from customer2vec.models.sgns.attributes import train_attr2vec
from customer2vec.models.sgns.baskets import DEFAULTS, item_embeddings, train_sgns, warmup
from customer2vec.models.sgns.doc2vec import (
    FrozenDoc2Vec,
    freeze_doc2vec,
    infer_doc2vec,
    train_doc2vec,
)
from customer2vec.models.sgns.sampling import build_alias, keep_prob, noise_table

__all__ = [
    "DEFAULTS",
    "FrozenDoc2Vec",
    "build_alias",
    "freeze_doc2vec",
    "infer_doc2vec",
    "item_embeddings",
    "keep_prob",
    "noise_table",
    "train_attr2vec",
    "train_doc2vec",
    "train_sgns",
    "warmup",
]
