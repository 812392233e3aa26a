"""The PyTorch engine of the neural models (autoencoder, guided, gru, candidate-gen).

* :mod:`.runtime`: import torch (the optional ``torch`` extra), seed it, save and load weights
  as ``.npy`` arrays (no pickle);
* :mod:`.softmax`: the output layer over the items, sampled softmax with the logQ correction;
* :mod:`.repeats`: the sequence models' repeat term (what a customer bought before);
* :mod:`.training`: parameter checks, batches, optimizers, sparse x dense products;
* :mod:`.inputs`: labels, item groups and bags of the customer models (torch-free).
"""

from __future__ import annotations

from customer2vec.models.neural.inputs import (
    GROUP_ATTRIBUTES,
    WEIGHTINGS,
    customer_labels,
    idf,
    item_groups,
    log_counts,
    unpack,
    weighted_bags,
)
from customer2vec.models.neural.repeats import (
    add_repeat_gate,
    add_repeat_scores,
    decayed_counts,
    repeat_extra,
)
from customer2vec.models.neural.runtime import (
    WEIGHTS_DIR,
    import_torch,
    load_weights,
    save_weights,
    seed_and_threads,
)
from customer2vec.models.neural.softmax import (
    SampledSoftmax,
    add_item_output,
    bag_rows,
    gather_rows,
    log_prior,
    output_scores,
)
from customer2vec.models.neural.training import (
    SparseAwareAdam,
    add_label_loss,
    basket_targets,
    check_softmax_training,
    sparse_mm,
    train_batches,
)

__all__ = [
    "GROUP_ATTRIBUTES",
    "WEIGHTINGS",
    "WEIGHTS_DIR",
    "SampledSoftmax",
    "SparseAwareAdam",
    "add_item_output",
    "add_label_loss",
    "add_repeat_gate",
    "add_repeat_scores",
    "bag_rows",
    "basket_targets",
    "check_softmax_training",
    "customer_labels",
    "decayed_counts",
    "gather_rows",
    "idf",
    "import_torch",
    "item_groups",
    "load_weights",
    "log_counts",
    "log_prior",
    "output_scores",
    "repeat_extra",
    "save_weights",
    "seed_and_threads",
    "sparse_mm",
    "train_batches",
    "unpack",
    "weighted_bags",
]
