"""Vectors keyed by external ids, with cosine nearest neighbors (like gensim's KeyedVectors)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.data.ids import RETRAIN, IdMap, check_file_name, load_array
from customer2vec.errors import DataValidationError
from customer2vec.vectors.search import top_n


@dataclass(frozen=True)
class Neighbors:
    """Query result: external ids and scores as arrays, best first, length <= n."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def to_frame(self, id_column: str = Columns.ITEM) -> pd.DataFrame:
        """A DataFrame with the id column, ``score`` and ``rank`` (1 = best)."""
        return pd.DataFrame(
            {
                id_column: self.ids,
                Columns.SCORE: self.scores,
                Columns.RANK: np.arange(1, len(self.ids) + 1),
            }
        )


class Embeddings:
    """Vectors keyed by external ids.

    Examples
    --------
    >>> vecs = model.item_vectors_                       # doctest: +SKIP
    >>> vecs["SKU-1042"]                                 # read-only 1-D array
    >>> vecs.similar("SKU-1042", n=5, exclude=["SKU-0001"]).ids
    """

    def __init__(
        self, ids: IdMap | Iterable[Hashable], vectors: np.ndarray, *, kind: str = "item"
    ) -> None:
        self.id_map = ids if isinstance(ids, IdMap) else IdMap(ids, kind=kind)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(self.id_map):
            raise DataValidationError(
                f"vectors must be a 2-D array with one row per id ({len(self.id_map)}); got "
                f"shape {vectors.shape}."
            )
        self._vectors = vectors.astype(np.float32, copy=False).view()
        self._vectors.flags.writeable = False  # a read-only view; the caller's array is untouched
        self._unit: np.ndarray | None = None

    @property
    def kind(self) -> str:
        return self.id_map.kind

    @property
    def keys(self) -> np.ndarray:
        """External ids, in row order."""
        return self.id_map.external

    @property
    def vectors(self) -> np.ndarray:
        """The (n, dim) float32 matrix, read-only."""
        return self._vectors

    @property
    def dim(self) -> int:
        return self._vectors.shape[1]

    def __len__(self) -> int:
        return len(self.id_map)

    def __contains__(self, key: object) -> bool:
        return key in self.id_map

    def __getitem__(self, key: Hashable) -> np.ndarray:
        return self._vectors[self.id_map.index(key)]

    def __repr__(self) -> str:
        return f"Embeddings({len(self)} {self.kind}s x {self.dim})"

    @property
    def unit_vectors(self) -> np.ndarray:
        """Rows scaled to unit length (zero rows stay zero); computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self._vectors, axis=1, keepdims=True)
            unit = self._vectors / np.maximum(norms, 1e-12)
            unit.flags.writeable = False
            self._unit = unit
        return self._unit

    def similar(
        self, key_or_vector: Hashable | np.ndarray, n: int = 10, *, exclude: Iterable[Hashable] = ()
    ) -> Neighbors:
        """The ``n`` nearest ids by cosine similarity.

        A key query never returns the key itself. ``exclude`` ids are left out; ids unknown
        to these embeddings are ignored there.

        Raises
        ------
        UnknownIdError
            If ``key_or_vector`` is a key these embeddings do not hold.
        """
        require_int(n, "n", minimum=1)
        skip = self.id_map.to_internal(list(exclude), on_unknown="skip") if exclude else []
        if isinstance(key_or_vector, np.ndarray) and key_or_vector.ndim == 1:
            query = key_or_vector.astype(np.float32)
            if query.shape[0] != self.dim:
                raise DataValidationError(
                    f"query vector has {query.shape[0]} dimensions; these embeddings have "
                    f"{self.dim}."
                )
            query = query / max(float(np.linalg.norm(query)), 1e-12)
        else:
            row = self.id_map.index(key_or_vector)
            query = self.unit_vectors[row]
            skip = np.append(np.asarray(skip, dtype=np.int64), row)
        scores = self.unit_vectors @ query
        top = top_n(scores, n, exclude=np.asarray(skip, dtype=np.int64))
        return Neighbors(self.id_map.to_external(top), scores[top])

    def save(self, path: str | Path, name: str | None = None) -> None:
        """Write ``NAME_vectors.npy`` and the id list ``NAME_ids.*`` into ``path``."""
        name = name or self.kind
        directory = Path(path)
        directory.mkdir(parents=True, exist_ok=True)
        np.save(
            directory / f"{name}_vectors.npy",
            np.ascontiguousarray(self._vectors),
            allow_pickle=False,
        )
        self.id_map.save(directory, f"{name}_ids")

    @classmethod
    def load(cls, path: str | Path, name: str = "item", *, mmap: bool = True) -> Embeddings:
        """Read embeddings written by :meth:`save` (memory-mapped by default)."""
        directory = Path(path)
        file = directory / f"{check_file_name(name, directory)}_vectors.npy"
        if not file.is_file():
            raise DataValidationError(
                f"no {name} vectors in {directory} (missing {file.name}). {RETRAIN}"
            )
        vectors = load_array(directory, file.name, mmap=mmap)
        ids = IdMap.load(directory, f"{name}_ids", kind=name)
        if vectors.ndim != 2 or vectors.shape[0] != len(ids) or vectors.dtype.kind not in "fiu":
            raise DataValidationError(
                f"{file} is corrupt (a {vectors.dtype} array of shape {vectors.shape}; expected "
                f"numbers with one row per id, {len(ids)} rows). {RETRAIN}"
            )
        return cls(ids, vectors, kind=name)

    def to_frame(self, *, wide: bool = False) -> pd.DataFrame:
        """One row per id: the id column, then ``vector`` (a list of float32 per row).

        ``wide=True`` gives one float32 column per dimension instead (``dim_0``, ``dim_1``...),
        the shape scikit-learn and most feature stores expect.
        """
        column = f"{self.kind}_id"
        if not wide:
            return pd.DataFrame({column: self.keys, Columns.VECTOR: list(self._vectors)})
        frame = pd.DataFrame(
            np.asarray(self._vectors, dtype=np.float32),
            columns=[f"dim_{j}" for j in range(self.dim)],
        )
        frame.insert(0, column, self.keys)
        return frame
