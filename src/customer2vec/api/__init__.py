"""HTTP API and explorer page over one trained model (``customer2vec serve``).

FastAPI and uvicorn are the ``serve`` extra: ``pip install 'customer2vec[serve]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from customer2vec.errors import MissingDependencyError

#: Packages the API needs, all from the ``serve`` extra.
SERVE_PACKAGES = ("fastapi", "starlette", "pydantic", "uvicorn")


def create_app(
    model_dir: str | Path, *, segments_dir: str | Path | None = None, map_items: int = 2000
) -> Any:
    """Load a model once and return the FastAPI app (see :func:`customer2vec.api.app.create_app`).

    Raises
    ------
    MissingDependencyError
        If FastAPI is not installed (the ``serve`` extra).
    """
    require_serve()
    from customer2vec.api.app import create_app as _create_app

    return _create_app(model_dir, segments_dir=segments_dir, map_items=map_items)


def require_serve(*packages: str) -> None:
    """Raise ``MissingDependencyError`` naming the ``serve`` extra if a package is missing."""
    import importlib.util

    for name in packages or SERVE_PACKAGES[:3]:
        if importlib.util.find_spec(name) is None:
            raise MissingDependencyError(
                f"`customer2vec serve` needs {name}, which is not installed: "
                "pip install 'customer2vec[serve]'."
            )


__all__ = ["create_app", "require_serve"]
