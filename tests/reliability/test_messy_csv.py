"""Property: any messy CSV either ingests with every row accounted for and ids intact, or
fails with one ``error:`` line (never a traceback).

Files are generated with random separators, quoting, encodings (utf-8, latin-1, utf-16 with
the matching ``--encoding``), blank, padded, zero-led, 20-digit and odd unicode ids,
missing and non-finite quantities, and duplicated rows; they go through the CLI in-process.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from pathlib import Path

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from customer2vec.cli import cli

SEPARATORS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "latin-1", "utf-16"]
HEADER = ["customer_id", "basket_id", "item_id", "quantity"]  # found by their common names
#: Foreign names, mapped with flags.
NAMED = {"--customer-col": "Kunde", "--basket-col": "Beleg", "--item-col": "Artikel Nr"}
NAMED["--quantity-col"] = "Menge"

ODD = ["é", "ß", "Ø", "ñ", "ü", "日本", "Ω", "😀", "e\u0301", "\u200b", "\u00a0", "שלום", "ﬁ"]
PUNCTUATION = [",", ";", "|", "\t", '"', "'", " ", "-", "#", "\\", "\n", "\r\n"]


def _latin1(text: str) -> bool:
    return all(ord(ch) < 256 for ch in text)


@st.composite
def ids(draw, encoding: str) -> str:
    """One id as written in the file (may be blank: a missing id)."""
    kinds = ["int", "zeros", "padded", "blank", "long", "negative", "odd", "odd", "odd"]
    kind = draw(st.sampled_from(kinds))
    if kind == "int":
        return str(draw(st.integers(0, 40)))
    if kind == "negative":
        return str(draw(st.integers(-5, -1)))
    if kind == "zeros":
        return "0" * draw(st.integers(1, 3)) + str(draw(st.integers(1, 40)))
    if kind == "padded":
        pad = st.sampled_from(["", " ", "  "])
        return draw(pad) + str(draw(st.integers(0, 40))) + draw(pad)
    if kind == "blank":
        return draw(st.sampled_from(["", " ", "   ", "\t"]))
    if kind == "long":
        return str(draw(st.integers(10**19, 10**20 - 1)))
    alphabet = ODD + PUNCTUATION + list("abcxyzAZ019")
    if encoding == "latin-1":
        alphabet = [a for a in alphabet if _latin1(a)]
    pieces = draw(st.lists(st.sampled_from(alphabet), min_size=1, max_size=4))
    return "".join(pieces)


@st.composite
def messy_files(draw):
    encoding = draw(st.sampled_from(ENCODINGS))
    separator = draw(st.sampled_from(SEPARATORS))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    customers = st.lists(ids(encoding), min_size=2, max_size=6, unique=True)
    items = st.lists(ids(encoding), min_size=2, max_size=6, unique=True)
    customer_pool, item_pool = draw(customers), draw(items)
    quantity = st.sampled_from(["1", "2", "", "0.5", "-1", "nan", "inf", "x"])
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(customer_pool),
                st.integers(1, 6).map(str),
                st.sampled_from(item_pool),
                quantity,
            ),
            min_size=1,
            max_size=25,
        )
    )
    duplicates = draw(st.lists(st.sampled_from(rows), max_size=4))
    rows = rows + duplicates
    order = draw(st.permutations(range(len(rows))))
    rows = [rows[i] for i in order]
    give_delimiter = draw(st.booleans())
    give_encoding = encoding != "utf-8" or draw(st.booleans())
    named = draw(st.booleans())
    return encoding, separator, quoting, rows, give_delimiter, give_encoding, named


def write(path: Path, encoding: str, separator: str, quoting: int, rows, header) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=separator, quoting=quoting, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def expected_report(rows) -> dict[str, int]:
    """Drop reasons of ``rows``, by ingest's rules (see customer2vec.data.ingest)."""
    dropped: dict[str, int] = {}
    seen = set()
    for customer, basket, item, quantity in rows:
        number = None
        if quantity.strip():
            try:
                number = float(quantity)
            except ValueError:
                number = math.nan
        if not customer.strip():
            reason = "missing_customer"
        elif not item.strip():
            reason = "missing_item"
        elif number is not None and not math.isfinite(number):
            reason = "bad_quantity"
        elif number is not None and number < 0:
            reason = "return"
        elif (customer, basket, item, number) in seen:
            reason = "duplicate"
        else:
            seen.add((customer, basket, item, number))
            continue
        dropped[reason] = dropped.get(reason, 0) + 1
    return dropped


def check_failure(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(messy_files())
def test_messy_csv_is_ingested_exactly_or_refused_in_one_line(case):
    encoding, separator, quoting, rows, give_delimiter, give_encoding, named = case
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "messy.csv", Path(tmp) / "ds"
        write(src, encoding, separator, quoting, rows, list(NAMED.values()) if named else HEADER)
        args = ["-q", "ingest", str(src), "--out", str(out)]
        if named:
            args += [part for flag_and_name in NAMED.items() for part in flag_and_name]
        if give_delimiter:
            args += ["--delimiter", separator]
        if give_encoding:
            args += ["--encoding", encoding]
        result = runner.invoke(cli, args)
        event(f"exit code {result.exit_code}")
        if result.exit_code != 0:
            check_failure(result)
            event(result.stderr.strip().splitlines()[-1][:60])
            return
        assert result.exception is None, repr(result.exception)
        shown = runner.invoke(cli, ["info", str(out), "--json"])
        assert shown.exit_code == 0, shown.output
        info = json.loads(shown.stdout)
        assert info["rows_read"] == len(rows)
        assert info["rows_read"] == info["rows_kept"] + sum(info["rows_dropped"].values())
        lines = pd.read_parquet(out / "transactions.parquet")
        assert len(lines) == info["rows_kept"]
        customers = {row[0] for row in rows}
        items = {row[2] for row in rows}
        kept_customers = {str(v) for v in lines["customer_id"]}
        kept_items = {str(v) for v in lines["item_id"]}
        assert kept_customers <= customers, kept_customers - customers
        assert kept_items <= items, kept_items - items
        # and each row is kept or dropped for the reason it should be: no row was lost or
        # merged into another by a misread separator or quote
        assert info["rows_dropped"] == expected_report(rows)
