"""Malformed CSV files get one error that names the file, the real line and the fix."""

from __future__ import annotations

import gzip
import zipfile

import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.columns import Columns as C
from customer2vec.data.engine import DuckDBEngine, check_memory_limit
from customer2vec.data.ingest import ingest
from customer2vec.errors import ConfigError, DataValidationError

HEADER = "customer_id,basket_id,item_id\n"


def rows(n: int, start: int = 0) -> list[str]:
    return [f"{i % 50},{i},x{i % 7}" for i in range(start, start + n)]


def write_lines(path, lines: list[str]):
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return path


def test_a_few_rows_with_too_many_fields_are_counted_with_the_first_line(tmp_path):
    # One bad row in 1,000 makes DuckDB's sniffer read the file as one column; the old
    # message was "no customer column found".
    lines = rows(1000)
    lines[499] = "9,9,a,b"
    lines[700] = "9,9,a,b,c"
    src = write_lines(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError) as caught:
        ingest([src], tmp_path / "ds")
    message = str(caught.value)
    assert message.startswith(f"cannot read {src}: 2 rows have more fields than the header's 3")
    assert "(first: line 501: '9,9,a,b')" in message
    assert "--delimiter" in message and "quoted" in message
    assert not (tmp_path / "ds").exists()


def test_too_many_fields_in_the_first_rows(tmp_path):
    src = write_lines(tmp_path / "t.csv", ["1,1,a", "2,2,b", "3,3,c,d", "4,4,e", "5,5,f,g,h"])
    with pytest.raises(DataValidationError, match=r"2 rows have more fields.*first: line 4"):
        ingest([src], tmp_path / "ds")


def test_too_many_fields_past_the_sniffed_sample(tmp_path):
    lines = rows(210_000)
    lines[205_000] = "9,9,a,b"
    src = write_lines(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError, match=r"1 row has more fields.*line 205002: '9,9"):
        ingest([src], tmp_path / "ds")


def test_too_many_fields_with_the_delimiter_given(tmp_path):
    lines = [line.replace(",", ";") for line in rows(300)]
    lines[10] = "1;2;3;4"
    src = tmp_path / "t.csv"
    src.write_text(HEADER.replace(",", ";") + "\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match=r"1 row has more fields.*line 12.*with ';'"):
        ingest([src], tmp_path / "ds", delimiter=";")


def test_fewer_fields_are_named_too(tmp_path):
    lines = rows(300)
    lines[3] = "1,2"
    src = write_lines(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError, match=r"1 row has fewer fields.*line 5: '1,2'"):
        ingest([src], tmp_path / "ds")


def test_a_title_line_without_delimiters_above_the_header_is_skipped(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("Sales export 2024\n" + HEADER + "1,1,a\n2,2,b\n")
    assert ingest([src], tmp_path / "ds").info["rows_kept"] == 2


def test_a_wrongly_sniffed_delimiter_is_corrected_from_the_header(tmp_path):
    # Tab-separated, every item holds two commas: the sniffer prefers ','.
    src = tmp_path / "t.txt"
    src.write_text(
        "customer_id\tbasket_id\titem_id\n"
        + "".join(f"{i}\t{i}\tbox, {i}, large\n" for i in range(20))
    )
    ds = ingest([src], tmp_path / "ds")
    assert ds.read("transactions")[C.ITEM].iloc[0] == "box, 0, large"


def test_a_very_long_line_is_reported_on_its_real_line(tmp_path):
    # DuckDB said "CSV Error on Line: 1" for a long field on line 5.
    lines = [*rows(3), "4,4," + "x" * 3_000_000, "5,5,e"]
    src = write_lines(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError) as caught:
        ingest([src], tmp_path / "ds")
    message = str(caught.value)
    assert "line 5 is 3,000,004 bytes long, over the 2,000,000-byte limit" in message
    assert "Line: 1" not in message and "line 1 " not in message
    assert "quot" in message and "--max-line-size 4000000" in message
    ds = ingest([src], tmp_path / "ds", max_line_size=4_000_000)
    assert ds.info["rows_kept"] == 5


def test_an_unclosed_quote_is_named(tmp_path):
    lines = rows(600)
    lines[100] = '9,9,"a,b'
    src = write_lines(tmp_path / "t.csv", lines)
    with pytest.raises(DataValidationError, match=r"quote .* on line 102 is not closed"):
        ingest([src], tmp_path / "ds")


def test_gzip_content_named_csv_is_read_as_gzip(tmp_path):
    src = tmp_path / "t.csv"
    src.write_bytes(gzip.compress((HEADER + "1,1,007\n2,2,b\n").encode()))
    ds = ingest([src], tmp_path / "ds")
    assert ds.read("transactions")[C.ITEM].tolist() == ["007", "b"]


def test_gzip_and_plain_files_mixed_must_be_named_by_their_content(tmp_path):
    plain = write_lines(tmp_path / "a.csv", ["1,1,a"])
    packed = tmp_path / "b.csv"
    packed.write_bytes(gzip.compress((HEADER + "2,2,b\n").encode()))
    with pytest.raises(DataValidationError, match=r"b.csv is gzip-compressed.*rename it to b"):
        ingest([plain, packed], tmp_path / "ds")
    packed.rename(tmp_path / "b.csv.gz")
    ds = ingest([plain, tmp_path / "b.csv.gz"], tmp_path / "ds")
    assert ds.info["rows_kept"] == 2


def test_a_zip_archive_named_csv_is_refused_with_the_fix(tmp_path):
    src = tmp_path / "t.csv"
    with zipfile.ZipFile(src, "w") as archive:
        archive.writestr("t.csv", HEADER + "1,1,a\n")
    with pytest.raises(DataValidationError, match="ZIP archive.*Unzip it"):
        ingest([src], tmp_path / "ds")


@pytest.mark.parametrize("good", ["4GB", "512MB", "80%", "1.5 GiB", "100%"])
def test_memory_limits_in_duckdb_units_are_accepted(good):
    assert check_memory_limit(good) == good.strip()


@pytest.mark.parametrize("bad", ["lots", "4", "0%", "150%", "10KB", "", "4 parsecs", 4])
def test_bad_memory_limit_is_a_config_error(tmp_path, bad):
    src = write_lines(tmp_path / "t.csv", ["1,1,a"])
    with pytest.raises(ConfigError, match="`memory_limit` .* such as '4GB'"):
        ingest([src], tmp_path / "ds", memory_limit=bad)
    with pytest.raises(ConfigError):
        DuckDBEngine(memory_limit=bad)
    assert not (tmp_path / "ds").exists()


def test_cli_bad_memory_limit_is_one_error_line(tmp_path):
    src = write_lines(tmp_path / "t.csv", ["1,1,a"])
    result = CliRunner().invoke(
        cli, ["ingest", str(src), "--out", str(tmp_path / "ds"), "--memory-limit", "lots"]
    )
    assert result.exit_code in (1, 2)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        line for line in result.stderr.splitlines() if line.startswith("error:")
    ]
    assert "--memory-limit" in result.stderr and "Traceback" not in result.stderr


def test_duckdb_errors_in_a_preset_name_the_files(tmp_path):
    folder = tmp_path / "instacart"
    folder.mkdir()
    (folder / "orders.csv").write_text("order_id,customer\n1,1\n")  # no user_id column
    (folder / "order_products__prior.csv").write_text("order_id,product_id\n1,5\n")
    with pytest.raises(DataValidationError, match=f"cannot read {folder}: .*user_id"):
        ingest([folder], tmp_path / "ds", preset="instacart")


def test_a_corrupt_parquet_file_is_named(tmp_path):
    src = tmp_path / "t.parquet"
    src.write_bytes(b"PAR1 this is not really parquet")
    with pytest.raises(DataValidationError, match=f"cannot read {src}"):
        ingest([src], tmp_path / "ds")


def test_a_given_delimiter_missing_from_the_header_is_named(tmp_path):
    src = write_lines(tmp_path / "t.csv", ["1,1,a"])
    with pytest.raises(DataValidationError, match=r"holds no ';;' \(--delimiter\).*','"):
        ingest([src], tmp_path / "ds", delimiter=";;")


def test_an_unknown_encoding_is_named(tmp_path):
    src = write_lines(tmp_path / "t.csv", ["1,1,a"])
    with pytest.raises(DataValidationError, match=r"klingon-8.*--encoding utf-8, latin-1") as err:
        ingest([src], tmp_path / "ds", encoding="klingon-8")
    assert "not valid UTF-8" not in str(err.value)


def test_a_time_format_that_never_matches_is_named(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("customer_id,item_id,date\n1,a,2024-01-03\n")
    with pytest.raises(DataValidationError, match=r"do not match --time-format '%d\.%m\.%Y'"):
        ingest([src], tmp_path / "ds", time_format="%d.%m.%Y")


def test_the_output_may_not_hold_an_input(tmp_path):
    src = write_lines(tmp_path / "t.csv", ["1,1,a", "2,2,b"])
    ds = ingest([src], tmp_path / "ds")
    with pytest.raises(DataValidationError, match="overlaps the input"):
        ingest([ds.path / "transactions.parquet"], ds.path, overwrite=True)
    items = write_lines(tmp_path / "ds" / "items.csv", ["1,1,a"])
    with pytest.raises(DataValidationError, match="overlaps the input"):
        ingest([src], ds.path, overwrite=True, items=[items])


def test_header_names_holding_another_delimiter_are_not_mistaken_for_bad_rows(tmp_path):
    src = tmp_path / "t.csv"
    # ',' splits the header into as many fields as ';' does
    src.write_text("customer_id;basket_id;item_id;price, EUR, net, 2024\n1;1;a;2.5\n2;2;b;3\n")
    ds = ingest([src], tmp_path / "ds")
    assert ds.info["rows_kept"] == 2
