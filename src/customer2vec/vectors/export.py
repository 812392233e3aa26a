"""Export vectors for other tools: Parquet (id + list<float32>) or word2vec text."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from customer2vec.config import require_choice
from customer2vec.data.outputs import check_file_output
from customer2vec.vectors.embeddings import Embeddings

ExportFormat = Literal["parquet", "word2vec"]


def export_embeddings(
    embeddings: Embeddings, path: str | Path, *, fmt: ExportFormat = "parquet"
) -> Path:
    """Write ``embeddings`` to ``path``.

    ``parquet``: the id column (``item_id`` or ``customer_id``, external type) then
    ``vector`` as ``list<float32>``. ``word2vec``: gensim's text format (a header line
    ``count dim``, then ``id v1 v2 ...``), loadable with
    ``KeyedVectors.load_word2vec_format(path)``; whitespace inside ids becomes ``_``.
    """
    require_choice(fmt, "format", ("parquet", "word2vec"))
    path = check_file_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    vectors = np.ascontiguousarray(embeddings.vectors, dtype=np.float32)
    if fmt == "parquet":
        keys = embeddings.keys
        ids = pa.array(keys, type=pa.int64() if keys.dtype.kind in "iu" else pa.string())
        column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])
        table = pa.table(
            {f"{embeddings.kind}_id": ids, "vector": column.cast(pa.list_(pa.float32()))}
        )
        pq.write_table(table, tmp, compression="zstd")
    else:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(f"{len(embeddings)} {embeddings.dim}\n")
            for key, row in zip(embeddings.keys, vectors, strict=True):
                token = "_".join(str(key).split())
                handle.write(token + " " + " ".join(f"{x:.6g}" for x in row) + "\n")
    tmp.replace(path)
    return path
