"""A dataset table may be a folder of part files (how Spark writes): every reader accepts it."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from customer2vec.columns import Columns as C
from customer2vec.corpus.baskets import build_baskets
from customer2vec.data.dataset import Dataset, write_meta
from customer2vec.data.engine import parse_time
from customer2vec.data.ingest import ingest
from customer2vec.data.outputs import atomic_directory
from customer2vec.data.spark_engine import duckdb_type, spark_sql
from customer2vec.errors import ConfigError, DataValidationError


@pytest.fixture
def file_and_folder(tmp_path, two_tribes_csv):
    """The same dataset twice: one transactions file, and that table split into 3 part files."""
    from customer2vec.data.mapping import ColumnMapping

    mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at")
    single = ingest([two_tribes_csv], tmp_path / "single", mapping=mapping)
    folder = tmp_path / "folder"
    shutil.copytree(single.path, folder)
    table = pq.read_table(folder / "transactions.parquet")
    (folder / "transactions.parquet").unlink()
    (folder / "transactions.parquet").mkdir()
    bounds = np.linspace(0, table.num_rows, 4).astype(int)
    for k, (start, stop) in enumerate(itertools.pairwise(bounds)):
        name = f"part-{k:05d}-x.zstd.parquet"
        pq.write_table(table.slice(start, stop - start), folder / "transactions.parquet" / name)
    (folder / "transactions.parquet" / "_SUCCESS").write_text("")
    (folder / "transactions.parquet" / ".part-00000-x.zstd.parquet.crc").write_text("")
    meta = {k: v for k, v in single.meta.items() if k not in ("tables", "fingerprint")}
    write_meta(folder, meta)
    return single, Dataset.open(folder)


def test_a_folder_of_part_files_reads_like_the_file(file_and_folder):
    single, folder = file_and_folder
    pd.testing.assert_frame_equal(single.read("transactions"), folder.read("transactions"))
    assert folder.meta["tables"]["transactions"] == "transactions.parquet"
    pd.testing.assert_frame_equal(
        single.query("SELECT * FROM transactions"), folder.query("SELECT * FROM transactions")
    )
    a, b = build_baskets(single), build_baskets(folder)
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
    assert single.meta["fingerprint"] != folder.meta["fingerprint"]  # over the part files


def test_a_missing_or_truncated_part_file_is_reported(file_and_folder):
    _, folder = file_and_folder
    parts = sorted((folder.path / "transactions.parquet").glob("part-*"))
    parts[1].write_bytes(parts[1].read_bytes()[:20])
    with pytest.raises(DataValidationError, match="part-00001-x.zstd.parquet is corrupt"):
        Dataset.open(folder.path)
    for part in parts:
        part.unlink()
    with pytest.raises(DataValidationError, match="transactions.parquet is missing"):
        Dataset.open(folder.path)


def test_a_dataset_with_table_folders_can_be_overwritten(file_and_folder):
    _, folder = file_and_folder
    (folder.path / "transactions.parquet" / "_SUCCESS").unlink()
    (folder.path / "transactions.parquet" / ".part-00000-x.zstd.parquet.crc").unlink()
    with atomic_directory(folder.path, overwrite=True) as tmp:
        pq.write_table(pa.table({C.ITEM: [1]}), tmp / "items.parquet")
        write_meta(tmp, {})
    assert Dataset.open(folder.path).meta["tables"] == {"items": "items.parquet"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('SELECT "a b" FROM t', "SELECT `a b` FROM t"),
        ('SELECT \'say "hi"\' AS "x"', "SELECT 'say \"hi\"' AS `x`"),
        ('SELECT \'it\'\'s\', "we""ird", "back`tick"', "SELECT 'it''s', `we\"ird`, `back``tick`"),
        ("SELECT regexp_full_match(t, '[\\p{Z}]*')", "SELECT regexp_full_match(t, '[\\p{Z}]*')"),
    ],
)
def test_double_quoted_identifiers_become_backquotes_for_spark(query, expected):
    assert spark_sql(query) == expected


def test_spark_types_are_named_as_duckdb_names_them():
    assert [duckdb_type(t) for t in ("string", "bigint", "double", "decimal(38,0)")] == [
        "VARCHAR",
        "BIGINT",
        "DOUBLE",
        "DECIMAL(38,0)",
    ]


class _NotDuckDB:
    line_number = "monotonically_increasing_id()"


def test_strptime_formats_become_java_patterns_for_spark():
    sql = parse_time(_NotDuckDB(), "t", "%d/%m/%Y %H:%M at %p")
    assert sql == "try_to_timestamp(t, 'd/M/yyyy H:m'' at ''a')"
    with pytest.raises(ConfigError, match="%Z is not supported with --engine spark"):
        parse_time(_NotDuckDB(), "t", "%Y %Z")
