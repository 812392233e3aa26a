"""Import, seed and persist PyTorch modules.

PyTorch is the optional ``torch`` extra; :func:`import_torch` names it when missing. Weights
are stored as ``.npy`` arrays (no pickle, no ``torch.save``) and loaded back into a module
built from the saved parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from customer2vec.data.ids import load_array
from customer2vec.errors import MissingDependencyError

__all__ = ["WEIGHTS_DIR", "import_torch", "load_weights", "save_weights", "seed_and_threads"]

WEIGHTS_DIR = "weights"


def import_torch() -> Any:
    """Import torch, or raise ``MissingDependencyError`` naming the extra to install."""
    try:
        import torch
    except ModuleNotFoundError as err:
        raise MissingDependencyError(
            "this model needs PyTorch: pip install 'customer2vec[torch]' "
            "(the CPU build 2.13.0; run bash scripts/setup.sh dev in a checkout)."
        ) from err
    return torch


def seed_and_threads(random_state: int, n_threads: int) -> Any:
    """Seed torch's generators and cap its CPU threads (0 = torch's default); return torch."""
    torch = import_torch()
    torch.manual_seed(random_state)
    if n_threads > 0:
        torch.set_num_threads(n_threads)
    return torch


def save_weights(module: Any, directory: Path) -> list[str]:
    """Write every tensor of ``module.state_dict()`` as ``weights/NAME.npy``; return the names."""
    folder = directory / WEIGHTS_DIR
    folder.mkdir(exist_ok=True)
    names = []
    for name, tensor in module.state_dict().items():
        np.save(folder / f"{name}.npy", tensor.detach().cpu().numpy(), allow_pickle=False)
        names.append(name)
    return names


def load_weights(module: Any, directory: Path, names: list[str]) -> Any:
    """Load ``weights/NAME.npy`` arrays written by :func:`save_weights` into ``module``."""
    torch = import_torch()
    folder = directory / WEIGHTS_DIR
    state = {name: torch.from_numpy(load_array(folder, f"{name}.npy").copy()) for name in names}
    module.load_state_dict(state)
    module.eval()
    return module
