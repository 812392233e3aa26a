"""A table-driven battery of bad inputs for every command and the main library entry points.

Each case corrupts a copy of a tiny good fixture (built once per module) or passes a bad
argument, and checks the command-line contract (SPEC section 4, STYLE section 4):

- exit 1 for bad input/data, 2 for bad usage/parameters (click's own usage errors too);
- never a traceback, never ``Aborted!``, never the last-resort ``internal error`` message;
- for exit 1: exactly one ``error:`` line on stderr, naming the offending file, column or
  value where there is one;
- for every ingest that succeeds: ``rows_read == rows_kept + sum(rows_dropped)``, and
  ``rows_kept`` equals the rows of ``transactions.parquet``;
- commands that must refuse to overwrite a folder leave it and its files intact.

Library cases expect a :class:`customer2vec.errors.Customer2VecError` subclass whose message
names the offending thing.

Every input is generated in ``tmp_path``; each case runs with ``tmp_path`` as the working
directory, so a command that misbehaves with ``--out .`` can only harm its own scratch folder.
"""

from __future__ import annotations

import functools
import gzip
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from customer2vec.cli import cli
from customer2vec.errors import (
    ConfigError,
    Customer2VecError,
    DataValidationError,
    UnknownIdError,
)

# -- good fixtures, built once per module -------------------------------------------------

MAP = [
    "--customer-col",
    "client",
    "--basket-col",
    "ticket",
    "--item-col",
    "sku",
    "--time-col",
    "sold_at",
    "--quantity-col",
    "units",
]


def raw_frame(n_customers: int = 12, baskets: int = 3, size: int = 3) -> pd.DataFrame:
    """Foreign column names (client, ticket, sku, sold_at, units); every row valid."""
    rows = []
    ticket = 1000
    for c in range(n_customers):
        for b in range(baskets):
            ticket += 1
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * b + c)
            for i in range(size):
                rows.append((f"c{c}", ticket, f"s{(c + b + i) % 15}", day.isoformat(), 1))
    return pd.DataFrame(rows, columns=["client", "ticket", "sku", "sold_at", "units"])


def invoke(args: Sequence[str]) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli, [str(a) for a in args], env={"CUSTOMER2VEC_DEBUG": None}, catch_exceptions=True
    )


def ok(args: Sequence[str]) -> Result:
    result = invoke(args)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


class World:
    """The good inputs every case copies or points at; models are trained on first use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ds = root / "DS"
        ok(["synth", "--out", self.ds, "--customers", 60, "--items", 40])
        tx = pd.read_parquet(self.ds / "transactions.parquet")
        self.item = str(tx["item_id"].iloc[0])
        self.customer = str(tx["customer_id"].iloc[0])
        self.raw = raw_frame()
        self.csv = root / "sales.csv"
        self.raw.to_csv(self.csv, index=False)

    def _train(self, name: str, *params: str, dataset: Path | None = None) -> Path:
        out = self.root / name
        args = ["train", dataset or self.ds, "--model", name, "--out", out]
        for p in params:
            args += ["--param", p]
        ok(args)
        return out

    @functools.cached_property
    def i2v(self) -> Path:
        """item2vec: item vectors, no customer vectors, ranks items."""
        return self._train("item2vec", "n_epochs=1", "n_factors=8")

    @functools.cached_property
    def tifu(self) -> Path:
        """tifu-knn: ranks items, no vectors."""
        return self._train("tifu-knn")

    @functools.cached_property
    def cop(self) -> Path:
        """copurchase: item vectors, cannot rank."""
        lists = {f"i{k}": [f"i{(k + j) % 20}" for j in range(1, 5)] for k in range(20)}
        (self.root / "lists.json").write_text(json.dumps(lists))
        ok(["ingest", "--copurchase", self.root / "lists.json", "--out", self.root / "CP"])
        return self._train("copurchase", "n_factors=8", dataset=self.root / "CP")

    @functools.cached_property
    def ae(self) -> Path:
        """autoencoder: its model.json names weight files (state.weights)."""
        return self._train("autoencoder", "n_epochs=1", "n_factors=8")

    @functools.cached_property
    def csv_ds(self) -> Path:
        """A second, unrelated dataset (from the CSV)."""
        out = self.root / "CSVDS"
        ok(["ingest", self.csv, "--out", out, *MAP])
        return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("world"))


# -- helpers for building bad inputs -------------------------------------------------------


def copy(src: Path, tmp: Path, name: str | None = None) -> Path:
    dst = tmp / (name or src.name)
    shutil.copytree(src, dst)
    return dst


def snapshot(path: Path) -> dict[str, bytes]:
    return {
        p.relative_to(path).as_posix(): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def truncate(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: max(1, int(len(data) * keep))])


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    document = json.loads(path.read_text())
    changed = change(document)
    path.write_text(json.dumps(document if changed is None else changed))


def set_key(key: str, value: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc[key] = value

    return change


def drop_key(key: str) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        doc.pop(key)

    return change


def model_copy(world: World, tmp: Path, which: str, corrupt: Callable[[Path], None]) -> Path:
    model = copy(getattr(world, which), tmp, "M")
    corrupt(model)
    return model


def write_text(tmp: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp / name
    path.write_text(text, encoding=encoding)
    return path


def write_bytes(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def raw_csv(
    world: World, tmp: Path, name: str = "raw.csv", frame: pd.DataFrame | None = None
) -> Path:
    path = tmp / name
    (world.raw if frame is None else frame).to_csv(path, index=False)
    return path


GARBAGE = bytes(range(256)) * 16


# -- the case tables -----------------------------------------------------------------------


@dataclass
class Call:
    """What one case runs and what it must show besides the exit code."""

    args: list[Any]
    #: Strings the error line must contain (a tuple: any one of them).
    mention: Sequence[str | tuple[str, ...]] = ()
    #: A successful ingest to check with `info --json` (out folder, expected rows_read).
    ingest_out: Path | None = None
    rows_read: int | None = None
    #: Extra checks after the command, given the result.
    after: Callable[[Result], None] | None = None
    #: Strings the output must not contain (misdiagnoses, unsafe advice).
    forbid: Sequence[str] = ()


@dataclass
class Case:
    id: str
    make: Callable[[World, Path], Call]
    code: int | frozenset[int]

    def __post_init__(self) -> None:
        if isinstance(self.code, int):
            self.code = frozenset({self.code})


C = Case
EITHER = frozenset({1, 2})
OK_OR_1 = frozenset({0, 1})


def ingest_call(
    sources: Sequence[Path],
    tmp: Path,
    *extra: Any,
    mention: Sequence[Any] = (),
    rows: int | None = None,
    forbid: Sequence[str] = (),
) -> Call:
    out = tmp / "OUT"
    return Call(
        ["ingest", *sources, "--out", out, *MAP, *extra],
        mention,
        ingest_out=out,
        rows_read=rows,
        forbid=forbid,
    )


def intact(path: Path) -> Callable[[Result], None]:
    """An `after` check: ``path`` holds exactly what it held before the command."""
    before = snapshot(path)

    def check(_: Result) -> None:
        assert path.is_dir(), f"{path} was removed"
        assert snapshot(path) == before, f"{path} changed"

    return check


def intact_dataset(path: Path) -> Callable[[Result], None]:
    check_files = intact(path)

    def check(result: Result) -> None:
        check_files(result)
        ok(["info", path, "--json"])

    return check


# ingest ------------------------------------------------------------------------------------


def _too_many_fields(world: World, tmp: Path) -> Call:
    lines = world.raw.to_csv(index=False).splitlines()
    lines[3] += ",extra,fields"
    lines[7] += ",x"
    path = write_text(tmp, "wide.csv", "\n".join(lines) + "\n")
    return ingest_call([path], tmp, mention=["wide.csv"], rows=len(lines) - 1)


def _gzip_named_csv(world: World, tmp: Path) -> Call:
    path = write_bytes(tmp, "packed.csv", gzip.compress(world.raw.to_csv(index=False).encode()))
    return ingest_call([path], tmp, mention=["packed.csv"], rows=len(world.raw))


def _json_rows(world: World, tmp: Path) -> Call:
    path = tmp / "rows.json"
    world.raw.to_json(path, orient="records")
    return ingest_call([path], tmp, mention=["rows.json"])


def _truncated_parquet(world: World, tmp: Path) -> Call:
    path = tmp / "rows.parquet"
    world.raw.to_parquet(path, index=False)
    truncate(path)
    return ingest_call([path], tmp, mention=["rows.parquet"])


def _time_never_parses(world: World, tmp: Path) -> Call:
    frame = world.raw.assign(sold_at="not a date")
    return ingest_call([raw_csv(world, tmp, frame=frame)], tmp, mention=["sold_at"])


def _all_empty_customers(world: World, tmp: Path) -> Call:
    frame = world.raw.assign(client="")
    return ingest_call([raw_csv(world, tmp, frame=frame)], tmp, mention=["client"])


def _mixed_sources(world: World, tmp: Path) -> Call:
    half = len(world.raw) // 2
    a = raw_csv(world, tmp, "a.csv", world.raw.iloc[:half])
    b = tmp / "b.parquet"
    world.raw.iloc[half:].to_parquet(b, index=False)
    return ingest_call([a, b], tmp, mention=["parquet"], rows=len(world.raw))


def _drops_rows(world: World, tmp: Path) -> Call:
    frame = world.raw.copy()
    frame.loc[0, "sku"] = None  # missing item
    frame.loc[1, "client"] = None  # missing customer
    frame.loc[2, "units"] = -1  # a return
    frame = pd.concat([frame, frame.iloc[[5]]], ignore_index=True)  # a duplicate
    return ingest_call([raw_csv(world, tmp, frame=frame)], tmp, rows=len(frame))


def _drops_big_baskets(world: World, tmp: Path) -> Call:
    first = world.raw.iloc[0]
    extra = pd.DataFrame([{**first, "sku": f"extra{i}"} for i in range(3)])
    frame = pd.concat([world.raw, extra], ignore_index=True)  # one basket of 6 items
    return ingest_call(
        [raw_csv(world, tmp, frame=frame)], tmp, "--max-basket-size", 3, rows=len(frame)
    )


def _out_dot(world: World, tmp: Path) -> Call:
    src = raw_csv(world, tmp)
    (tmp / "keep.txt").write_text("mine")
    return Call(
        ["ingest", src, "--out", ".", *MAP, "--overwrite"],
        [("--out .", "current directory")],
        after=intact(tmp),
    )


def _out_foreign_folder(world: World, tmp: Path) -> Call:
    src = raw_csv(world, tmp)
    folder = tmp / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8 not really")
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.txt").write_text("keep me")
    return Call(
        ["ingest", src, "--out", folder, *MAP, "--overwrite"], ["photos"], after=intact(folder)
    )


def _out_foreign_no_overwrite(world: World, tmp: Path) -> Call:
    src = raw_csv(world, tmp)
    folder = tmp / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"x")
    return Call(["ingest", src, "--out", folder, *MAP], ["photos"], after=intact(folder))


def _out_model_folder(world: World, tmp: Path) -> Call:
    model = copy(world.tifu, tmp, "M")
    return Call(
        ["ingest", raw_csv(world, tmp), "--out", model, *MAP, "--overwrite"],
        ["M"],
        after=intact(model),
    )


def _out_is_file(world: World, tmp: Path) -> Call:
    target = write_text(tmp, "target.txt", "mine")
    return Call(
        ["ingest", raw_csv(world, tmp), "--out", target, *MAP, "--overwrite"], ["target.txt"]
    )


def _source_inside_out(world: World, tmp: Path) -> Call:
    ds = copy(world.ds, tmp, "D")
    return Call(
        ["ingest", ds / "transactions.parquet", "--out", ds, "--overwrite"],
        ["D"],
        after=intact_dataset(ds),
    )


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _empty_dir(world: World, tmp: Path) -> Call:
    folder = tmp / "nothing"
    folder.mkdir()
    (folder / "README.txt").write_text("no data here")
    return ingest_call([folder], tmp, mention=["nothing"])


INGEST = [
    C(
        "ingest-empty-file",
        lambda w, t: ingest_call([write_bytes(t, "empty.csv", b"")], t, mention=["empty.csv"]),
        1,
    ),
    C(
        "ingest-header-only",
        lambda w, t: ingest_call(
            [write_text(t, "head.csv", "client,ticket,sku,sold_at,units\n")],
            t,
            mention=["head.csv"],
        ),
        1,
    ),
    C(
        "ingest-missing-file",
        lambda w, t: ingest_call([t / "nosuch.csv"], t, mention=["nosuch.csv"]),
        1,
    ),
    C("ingest-dir-without-csv", _empty_dir, 1),
    C("ingest-empty-dir", lambda w, t: ingest_call([_mkdir(t / "void")], t, mention=["void"]), 1),
    C(
        "ingest-wrong-customer-col",
        lambda w, t: Call(
            ["ingest", raw_csv(w, t), "--out", t / "OUT", *MAP[2:], "--customer-col", "kunde"],
            ["kunde"],
        ),
        EITHER,
    ),
    C(
        "ingest-one-column-two-roles",
        lambda w, t: Call(
            [
                "ingest",
                raw_csv(w, t),
                "--out",
                t / "OUT",
                "--customer-col",
                "client",
                "--item-col",
                "client",
                "--basket-col",
                "ticket",
                "--time-col",
                "sold_at",
            ],
            ["client"],
        ),
        EITHER,
    ),
    C("ingest-too-many-fields", _too_many_fields, OK_OR_1),
    C("ingest-gzip-named-csv", _gzip_named_csv, OK_OR_1),
    C(
        "ingest-binary-garbage-csv",
        lambda w, t: ingest_call(
            [write_bytes(t, "garbage.csv", GARBAGE)], t, mention=["garbage.csv"]
        ),
        1,
    ),
    C("ingest-json-file", _json_rows, 1),
    C("ingest-truncated-parquet", _truncated_parquet, 1),
    C("ingest-time-never-parses", _time_never_parses, 1),
    C(
        "ingest-bad-time-format",
        lambda w, t: ingest_call(
            [raw_csv(w, t)], t, "--time-format", "%Y.%m.%d", mention=["%Y.%m.%d"]
        ),
        EITHER,
    ),
    C(
        "ingest-max-basket-size-negative",
        lambda w, t: ingest_call([raw_csv(w, t)], t, "--max-basket-size", -1, mention=["-1"]),
        2,
    ),
    C(
        "ingest-max-basket-size-abc",
        lambda w, t: ingest_call([raw_csv(w, t)], t, "--max-basket-size", "abc"),
        2,
    ),
    C(
        "ingest-max-line-size-zero",
        lambda w, t: ingest_call([raw_csv(w, t)], t, "--max-line-size", 0),
        2,
    ),
    C("ingest-all-empty-customer-ids", _all_empty_customers, 1),
    C("ingest-mixed-csv-parquet", _mixed_sources, OK_OR_1),
    C(
        "ingest-memory-limit-lots",
        lambda w, t: ingest_call([raw_csv(w, t)], t, "--memory-limit", "lots", mention=["lots"]),
        2,
    ),
    C(
        "ingest-memory-limit-negative",
        lambda w, t: ingest_call([raw_csv(w, t)], t, "--memory-limit", "-4GB", mention=["-4GB"]),
        2,
    ),
    C("ingest-out-dot-overwrite", _out_dot, 1),
    C("ingest-out-foreign-folder-overwrite", _out_foreign_folder, 1),
    C("ingest-out-foreign-folder", _out_foreign_no_overwrite, 1),
    C("ingest-out-model-folder-overwrite", _out_model_folder, 1),
    C("ingest-out-is-a-file", _out_is_file, 1),
    C("ingest-source-inside-out", _source_inside_out, 1),
    C(
        "ingest-bogus-encoding",
        lambda w, t: ingest_call(
            [raw_csv(w, t)],
            t,
            "--encoding",
            "klingon-8",
            mention=["klingon-8"],
            forbid=["not valid UTF-8"],
        ),
        EITHER,
    ),
    C(
        "ingest-multichar-delimiter",
        lambda w, t: ingest_call(
            [raw_csv(w, t)], t, "--delimiter", ";;;", mention=[(";;;", "delimiter", "client")]
        ),
        EITHER,
    ),
    C(
        "ingest-items-missing",
        lambda w, t: ingest_call(
            [raw_csv(w, t)], t, "--items", t / "catalog.csv", mention=["catalog.csv"]
        ),
        1,
    ),
    C(
        "ingest-items-garbage",
        lambda w, t: ingest_call(
            [raw_csv(w, t)],
            t,
            "--items",
            write_bytes(t, "catalog.csv", GARBAGE),
            mention=["catalog.csv"],
        ),
        1,
    ),
    C(
        "ingest-items-id-col-wrong",
        lambda w, t: ingest_call(
            [raw_csv(w, t)],
            t,
            "--items",
            write_text(t, "catalog.csv", "sku,name\ns1,apple\n"),
            "--item-id-col",
            "artikel",
            mention=["artikel"],
        ),
        EITHER,
    ),
    C(
        "ingest-copurchase-invalid-json",
        lambda w, t: Call(
            ["ingest", "--copurchase", write_text(t, "fbt.json", "{not json"), "--out", t / "OUT"],
            ["fbt.json"],
        ),
        1,
    ),
    C(
        "ingest-copurchase-json-list",
        lambda w, t: Call(
            ["ingest", "--copurchase", write_text(t, "fbt.json", "[1, 2, 3]"), "--out", t / "OUT"],
            ["fbt.json"],
        ),
        1,
    ),
    C("ingest-no-sources", lambda w, t: Call(["ingest", "--out", t / "OUT"]), EITHER),
    C(
        "ingest-bogus-preset",
        lambda w, t: Call(["ingest", raw_csv(w, t), "--out", t / "OUT", "--preset", "walmart"]),
        2,
    ),
    C("ingest-drops-rows", _drops_rows, 0),
    C("ingest-drops-big-baskets", _drops_big_baskets, 0),
    C("ingest-good-control", lambda w, t: ingest_call([raw_csv(w, t)], t, rows=len(w.raw)), 0),
]

# info and dataset corruption ---------------------------------------------------------------


def ds_copy(world: World, tmp: Path, corrupt: Callable[[Path], None]) -> Path:
    ds = copy(world.ds, tmp, "D")
    corrupt(ds)
    return ds


def _info(corrupt: Callable[[Path], None], *mention: Any) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(["info", ds_copy(w, t, corrupt)], list(mention))


def _train_on(corrupt: Callable[[Path], None], *mention: Any) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(
        ["train", ds_copy(w, t, corrupt), "--model", "popularity", "--out", t / "M"], list(mention)
    )


def _remove(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).unlink()


def _truncate(name: str) -> Callable[[Path], None]:
    return lambda d: truncate(d / name)


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda d: (d / name).write_bytes(data)


def _json(name: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    return lambda d: edit_json(d / name, change)


INFO = [
    C("info-nonexistent", lambda w, t: Call(["info", t / "nowhere"], ["nowhere"]), 1),
    C("info-on-model", lambda w, t: Call(["info", w.tifu], ["tifu-knn"]), 1),
    C("info-on-file", lambda w, t: Call(["info", write_text(t, "x.csv", "a\n")], ["x.csv"]), 1),
    C("info-dataset-json-list", _info(_write("dataset.json", b"[1, 2]"), "dataset.json"), 1),
    C("info-dataset-json-invalid", _info(_write("dataset.json", b"{oops"), "dataset.json"), 1),
    C("info-dataset-json-missing", _info(_remove("dataset.json"), "dataset.json"), 1),
    C(
        "info-dataset-json-not-utf8",
        _info(_write("dataset.json", b'{"format": "\xff\xfe"}'), "dataset.json"),
        1,
    ),
    C(
        "info-dataset-json-newer",
        _info(_json("dataset.json", set_key("format_version", 99)), "D"),
        1,
    ),
    C(
        "info-dataset-json-string-version",
        _info(_json("dataset.json", set_key("format_version", "1")), "dataset.json"),
        1,
    ),
    C(
        "info-dataset-json-counts-null",
        _info(_json("dataset.json", set_key("counts", None)), "dataset.json"),
        1,
    ),
    C(
        "info-dataset-json-table-escape",
        _info(
            _json("dataset.json", lambda d: d["tables"].update(transactions="../x.parquet")),
            "dataset.json",
        ),
        1,
    ),
    C(
        "info-dataset-json-dropped-string",
        _info(
            _json("dataset.json", lambda d: d["report"].update(rows_dropped={"return": "many"})),
            "dataset.json",
        ),
        1,
    ),
    C(
        "info-dataset-json-count-string",
        _info(
            _json("dataset.json", lambda d: d["counts"].update(customers="sixty")), "dataset.json"
        ),
        1,
    ),
    C(
        "info-dataset-json-report-list",
        _info(_json("dataset.json", set_key("report", [])), "dataset.json"),
        1,
    ),
    C(
        "info-transactions-truncated",
        _info(_truncate("transactions.parquet"), "transactions.parquet"),
        1,
    ),
    C(
        "info-transactions-missing",
        _info(_remove("transactions.parquet"), "transactions.parquet"),
        1,
    ),
    C(
        "info-transactions-garbage",
        _info(_write("transactions.parquet", GARBAGE), "transactions.parquet"),
        1,
    ),
    C(
        "info-transactions-empty",
        _info(_write("transactions.parquet", b""), "transactions.parquet"),
        1,
    ),
]

# train -------------------------------------------------------------------------------------


def _train_param(*params: str, mention: Sequence[Any] = ()) -> Callable[[World, Path], Call]:
    def make(w: World, t: Path) -> Call:
        args = ["train", w.ds, "--model", "item2vec", "--out", t / "M", "--param", "n_epochs=1"]
        for p in params:
            args += ["--param", p]
        return Call(args, list(mention))

    return make


def _train_into_dataset(w: World, t: Path) -> Call:
    ds = copy(w.ds, t, "D")
    return Call(
        ["train", ds, "--model", "popularity", "--out", ds, "--overwrite"],
        ["D"],
        after=intact_dataset(ds),
    )


def _train_into_foreign(w: World, t: Path) -> Call:
    folder = t / "docs"
    folder.mkdir()
    (folder / "thesis.tex").write_text("keep me")
    return Call(
        ["train", w.ds, "--model", "popularity", "--out", folder, "--overwrite"],
        ["docs"],
        after=intact(folder),
    )


def _train_into_other_dataset(w: World, t: Path) -> Call:
    other = copy(w.ds, t, "OTHER")
    return Call(
        ["train", w.ds, "--model", "popularity", "--out", other, "--overwrite"],
        ["OTHER"],
        after=intact_dataset(other),
    )


def _train_out_inside_dataset(w: World, t: Path) -> Call:
    ds = copy(w.ds, t, "D")
    return Call(
        ["train", ds, "--model", "popularity", "--out", ds / "transactions.parquet", "--overwrite"],
        ["D"],
        after=intact_dataset(ds),
    )


TRAIN = [
    C("train-random-state-negative", _train_param("random_state=-1", mention=["random_state"]), 2),
    C("train-random-state-abc", _train_param("random_state=abc", mention=["random_state"]), 2),
    C("train-n-factors-huge", _train_param("n_factors=1000000000000", mention=["n_factors"]), 2),
    C("train-unknown-param", _train_param("nosuch=1", mention=["nosuch"]), 2),
    C("train-param-without-value", _train_param("novalue", mention=["novalue"]), 2),
    C("train-param-empty-key", _train_param("=3"), 2),
    C(
        "train-sample-zero",
        lambda w, t: Call(
            ["train", w.ds, "--model", "item2vec", "--out", t / "M", "--sample", 0], ["--sample"]
        ),
        2,
    ),
    C(
        "train-sample-above-one",
        lambda w, t: Call(
            ["train", w.ds, "--model", "item2vec", "--out", t / "M", "--sample", 2], ["--sample"]
        ),
        2,
    ),
    C("train-n-epochs-zero", _train_param("n_epochs=0", mention=["n_epochs"]), 2),
    C("train-n-epochs-float", _train_param("n_epochs=1.5", mention=["n_epochs"]), 2),
    C("train-learning-rate-nan", _train_param("learning_rate=nan", mention=["learning_rate"]), 2),
    C("train-context-bogus", _train_param("context='sideways'", mention=["context"]), 2),
    C(
        "train-unknown-model",
        lambda w, t: Call(["train", w.ds, "--model", "word3vec", "--out", t / "M"], ["word3vec"]),
        2,
    ),
    C("train-no-model", lambda w, t: Call(["train", w.ds, "--out", t / "M"]), 2),
    C(
        "train-config-missing",
        lambda w, t: Call(["train", w.ds, "--config", t / "c.toml", "--out", t / "M"], ["c.toml"]),
        EITHER,
    ),
    C(
        "train-config-invalid-toml",
        lambda w, t: Call(
            [
                "train",
                w.ds,
                "--config",
                write_text(t, "c.toml", "model = [unclosed"),
                "--out",
                t / "M",
            ],
            ["c.toml"],
        ),
        EITHER,
    ),
    C(
        "train-config-unknown-key",
        lambda w, t: Call(
            [
                "train",
                w.ds,
                "--config",
                write_text(t, "c.toml", 'model = "popularity"\nspeed = 11\n'),
                "--out",
                t / "M",
            ],
            ["speed"],
        ),
        2,
    ),
    C(
        "train-tune-sample-5",
        lambda w, t: Call(
            [
                "train",
                w.ds,
                "--model",
                "popularity",
                "--tune",
                "--tune-sample",
                5,
                "--out",
                t / "M",
            ],
            [("tune_sample", "tune-sample")],
        ),
        2,
    ),
    C(
        "train-tune-trials-0",
        lambda w, t: Call(
            [
                "train",
                w.ds,
                "--model",
                "popularity",
                "--tune",
                "--tune-trials",
                0,
                "--out",
                t / "M",
            ],
            [("tune_trials", "tune-trials")],
        ),
        2,
    ),
    C(
        "train-nonexistent-dataset",
        lambda w, t: Call(
            ["train", t / "nowhere", "--model", "popularity", "--out", t / "M"], ["nowhere"]
        ),
        1,
    ),
    C(
        "train-on-model-dir",
        lambda w, t: Call(
            ["train", w.tifu, "--model", "popularity", "--out", t / "M"], ["tifu-knn"]
        ),
        1,
    ),
    C(
        "train-truncated-transactions",
        _train_on(_truncate("transactions.parquet"), "transactions.parquet"),
        1,
    ),
    C(
        "train-transactions-wrong-schema",
        _train_on(
            lambda d: pd.DataFrame({"a": [1], "b": ["x"]}).to_parquet(d / "transactions.parquet"),
            "transactions.parquet",
        ),
        1,
    ),
    C("train-dataset-json-list", _train_on(_write("dataset.json", b"[]"), "dataset.json"), 1),
    C("train-out-is-dataset-overwrite", _train_into_dataset, 1),
    C("train-out-other-dataset-overwrite", _train_into_other_dataset, 1),
    C("train-out-foreign-folder-overwrite", _train_into_foreign, 1),
    C("train-out-file-inside-dataset", _train_out_inside_dataset, 1),
]

# model corruption (through similar / recommend) -------------------------------------------


def _npy_object(path: Path) -> None:
    np.save(path, np.array([{"a": 1}, "x", None], dtype=object), allow_pickle=True)


def _similar_corrupt(
    corrupt: Callable[[Path], None], *mention: Any, forbid: Sequence[str] = ()
) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(
        ["similar", model_copy(w, t, "i2v", corrupt), w.item], list(mention), forbid=forbid
    )


def _recommend_corrupt(
    corrupt: Callable[[Path], None], *mention: Any
) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(
        ["recommend", model_copy(w, t, "tifu", corrupt), w.customer], list(mention)
    )


def _gone_dataset(model: Path) -> None:
    def change(doc: dict) -> None:
        doc["dataset"]["path"] = str(model.parent / "vanished")
        doc["dataset"]["relative_path"] = "../vanished"

    edit_json(model / "model.json", change)


def _other_dataset(w: World) -> Callable[[Path], None]:
    def corrupt(model: Path) -> None:
        target = w.csv_ds

        def change(doc: dict) -> None:
            doc["dataset"]["path"] = str(target)
            doc["dataset"].pop("relative_path", None)

        edit_json(model / "model.json", change)

    return corrupt


def _ae_escape(w: World, t: Path) -> Call:
    def corrupt(model: Path) -> None:
        def change(doc: dict) -> None:
            doc["state"]["weights"][0] = "../x"

        edit_json(model / "model.json", change)
        np.save(t / "x.npy", np.zeros((3, 3), dtype=np.float32))

    model = model_copy(w, t, "ae", corrupt)
    return Call(["similar", model, w.item], ["../x"])


MJ = "model.json"
MODEL = [
    C(
        "model-npy-truncated",
        _similar_corrupt(_truncate("item_vectors.npy"), "item_vectors.npy"),
        1,
    ),
    C(
        "model-npy-object-dtype",
        _similar_corrupt(
            lambda m: _npy_object(m / "item_vectors.npy"),
            "item_vectors.npy",
            forbid=["allow_pickle"],
        ),
        1,
    ),
    C("model-npy-empty", _similar_corrupt(_write("item_vectors.npy", b""), "item_vectors.npy"), 1),
    C("model-npy-missing", _similar_corrupt(_remove("item_vectors.npy"), "item_vectors.npy"), 1),
    C(
        "model-npy-garbage",
        _similar_corrupt(
            _write("item_vectors.npy", GARBAGE), "item_vectors.npy", forbid=["allow_pickle"]
        ),
        1,
    ),
    C(
        "model-npy-pickled-array",
        _similar_corrupt(
            lambda m: np.save(
                m / "item_vectors.npy", np.array([[1.0], None], dtype=object), allow_pickle=True
            ),
            "item_vectors.npy",
            forbid=["allow_pickle"],
        ),
        1,
    ),
    C(
        "model-npy-int-dtype",
        _similar_corrupt(
            lambda m: np.save(m / "item_vectors.npy", np.zeros((40, 8), dtype="<U3")),
            "item_vectors.npy",
        ),
        1,
    ),
    C(
        "model-npy-wrong-shape",
        _similar_corrupt(
            lambda m: np.save(m / "item_vectors.npy", np.zeros(5, np.float32)), "item_vectors.npy"
        ),
        1,
    ),
    C(
        "model-npy-too-few-rows",
        _similar_corrupt(
            lambda m: np.save(m / "item_vectors.npy", np.zeros((3, 8), np.float32)), "M"
        ),
        1,
    ),
    C(
        "model-item-ids-invalid-json",
        _similar_corrupt(_write("item_ids.json", b"[1, 2"), "item_ids.json"),
        1,
    ),
    C("model-item-ids-missing", _similar_corrupt(_remove("item_ids.json"), "item_ids.json"), 1),
    C(
        "model-item-ids-duplicates",
        _similar_corrupt(_json("item_ids.json", lambda d: [d[0]] * len(d)), "item_ids.json"),
        1,
    ),
    C(
        "model-item-ids-object",
        _similar_corrupt(_write("item_ids.json", b'{"a": 1}'), "item_ids.json"),
        1,
    ),
    C(
        "model-items-parquet-garbage",
        _similar_corrupt(_write("items.parquet", GARBAGE), "items.parquet"),
        1,
    ),
    C("model-json-list", _similar_corrupt(_write(MJ, b"[1, 2]"), MJ), 1),
    C("model-json-state-null", _similar_corrupt(_json(MJ, set_key("state", None)), MJ), 1),
    C("model-json-params-list", _similar_corrupt(_json(MJ, set_key("params", [])), MJ), 1),
    C("model-json-no-model-key", _similar_corrupt(_json(MJ, drop_key("model")), MJ), 1),
    C(
        "model-json-unknown-model",
        _similar_corrupt(_json(MJ, set_key("model", "word3vec")), "word3vec"),
        1,
    ),
    C(
        "model-json-string-version",
        _similar_corrupt(_json(MJ, set_key("format_version", "1")), MJ),
        1,
    ),
    C(
        "model-json-newer-version",
        _similar_corrupt(_json(MJ, set_key("format_version", 2)), "M"),
        1,
    ),
    C("model-json-not-utf8", _similar_corrupt(_write(MJ, b'{"format": "\xff\xfe\xfd"}'), MJ), 1),
    C("model-json-invalid", _similar_corrupt(_write(MJ, b'{"format": '), MJ), 1),
    C("model-json-empty", _similar_corrupt(_write(MJ, b""), MJ), 1),
    C("model-json-missing", _similar_corrupt(_remove(MJ), MJ), 1),
    C(
        "model-json-unknown-param",
        _similar_corrupt(_json(MJ, lambda d: d["params"].update(nosuch=1)), "nosuch"),
        1,
    ),
    C(
        "model-json-bad-param-value",
        _recommend_corrupt(
            _json(MJ, lambda d: d["params"].update(n_neighbors="many")), "n_neighbors"
        ),
        1,
    ),
    C("model-json-dataset-string", _recommend_corrupt(_json(MJ, set_key("dataset", "DS")), MJ), 1),
    C("model-state-file-escapes", _ae_escape, 1),
    C(
        "model-tifu-npy-truncated",
        _recommend_corrupt(_truncate("customer_profiles_data.npy"), "customer_profiles_data.npy"),
        1,
    ),
    C(
        "model-tifu-customers-object",
        _recommend_corrupt(lambda m: _npy_object(m / "customers.npy"), "customers.npy"),
        1,
    ),
    C(
        "model-tifu-items-json-invalid",
        _recommend_corrupt(_write("items.json", b"nope"), "items.json"),
        1,
    ),
    C("model-dataset-gone-recommend", _recommend_corrupt(_gone_dataset, "vanished"), 1),
]

# similar -------------------------------------------------------------------------------------

SIMILAR = [
    C(
        "similar-unknown-item",
        lambda w, t: Call(["similar", w.i2v, "no-such-item"], ["no-such-item"]),
        1,
    ),
    C("similar-n-zero", lambda w, t: Call(["similar", w.i2v, w.item, "-n", 0]), 2),
    C("similar-n-negative", lambda w, t: Call(["similar", w.i2v, w.item, "-n", -1]), 2),
    C("similar-n-abc", lambda w, t: Call(["similar", w.i2v, w.item, "-n", "abc"]), 2),
    C(
        "similar-no-item-vectors",
        lambda w, t: Call(["similar", w.tifu, w.item], ["tifu-knn"]),
        2,  # a model that cannot do what the command asks: a usage error
    ),
    C("similar-on-dataset", lambda w, t: Call(["similar", w.ds, w.item], ["DS"]), 1),
    C("similar-nonexistent", lambda w, t: Call(["similar", t / "nowhere", w.item], ["nowhere"]), 1),
    C("similar-good-control", lambda w, t: Call(["similar", w.i2v, w.item, "-n", 3]), 0),
]

# recommend -----------------------------------------------------------------------------------

RECOMMEND = [
    C(
        "recommend-unknown-customer",
        lambda w, t: Call(["recommend", w.tifu, "C-nobody"], ["C-nobody"]),
        1,
    ),
    C(
        "recommend-cannot-rank",
        lambda w, t: Call(["recommend", w.cop, "i1"], ["copurchase"]),
        2,
    ),
    C("recommend-on-dataset", lambda w, t: Call(["recommend", w.ds, w.customer], ["DS"]), 1),
    C(
        "recommend-nonexistent",
        lambda w, t: Call(["recommend", t / "nowhere", w.customer], ["nowhere"]),
        1,
    ),
    C("recommend-n-zero", lambda w, t: Call(["recommend", w.tifu, w.customer, "-n", 0]), 2),
    C("recommend-n-negative", lambda w, t: Call(["recommend", w.tifu, w.customer, "-n", -3]), 2),
    C(
        "recommend-dataset-replaced",
        lambda w, t: Call(["recommend", model_copy(w, t, "i2v", _other_dataset(w)), w.customer]),
        1,
    ),
    C("recommend-good-control", lambda w, t: Call(["recommend", w.tifu, w.customer, "-n", 3]), 0),
]

# recommend-batch ----------------------------------------------------------------------------


def _batch(
    customers: Callable[[Path], Path] | None = None,
    *extra: Any,
    mention: Sequence[Any] = (),
    which: str = "tifu",
    out: Callable[[Path], Path] | None = None,
) -> Callable[[World, Path], Call]:
    def make(w: World, t: Path) -> Call:
        args = [
            "recommend-batch",
            getattr(w, which),
            "--out",
            (out or (lambda t: t / "recs.parquet"))(t),
            *extra,
        ]
        if customers is not None:
            args += ["--customers", customers(t)]
        return Call(args, list(mention))

    return make


def _batch_missing_parent(w: World, t: Path) -> Call:
    out = t / "no" / "such" / "dir" / "recs.parquet"

    def after(result: Result) -> None:
        if result.exit_code == 0:
            assert len(pd.read_parquet(out)) > 0

    return Call(["recommend-batch", w.tifu, "--out", out], ["no"], after=after)


def _batch_into_dataset(w: World, t: Path) -> Call:
    ds = copy(w.ds, t, "D")
    model = t / "M"
    ok(["train", ds, "--model", "popularity", "--out", model])
    return Call(
        ["recommend-batch", model, "--out", ds / "transactions.parquet"],
        ["transactions.parquet"],
        after=intact_dataset(ds),
    )


def _export_into_model(w: World, t: Path) -> Call:
    model = copy(w.i2v, t, "M")
    return Call(
        ["export", model, "--out", model / "item_vectors.npy"],
        ["item_vectors.npy"],
        after=intact(model),
    )


def no_leftovers(folder: Path) -> Callable[[Result], None]:
    """An `after` check: no hidden temporary files were left in ``folder``."""
    before = {p.name for p in folder.iterdir()}

    def check(_: Result) -> None:
        left = sorted(
            p.name for p in folder.iterdir() if p.name not in before and p.name.startswith(".")
        )
        assert not left, f"temporary files left behind: {left}"

    return check


def _batch_into_model(w: World, t: Path) -> Call:
    model = copy(w.tifu, t, "M")
    return Call(
        ["recommend-batch", model, "--out", model / "model.json"],
        ["model.json"],
        after=intact(model),
    )


BATCH = [
    C("batch-n-zero", _batch(None, "-n", 0), 2),
    C(
        "batch-spark-master-without-engine",
        lambda w, t: Call(
            ["recommend-batch", w.tifu, "--out", t / "r.parquet", "--spark-master", "local[2]"],
            ["--engine spark"],
        ),
        2,
    ),
    C("batch-n-negative", _batch(None, "-n", -2), 2),
    C("batch-out-missing-parent", _batch_missing_parent, OK_OR_1),
    C(
        "batch-out-parent-is-file",
        lambda w, t: Call(
            ["recommend-batch", w.tifu, "--out", write_text(t, "plain.txt", "x") / "recs.parquet"],
            ["plain.txt"],
        ),
        1,
    ),
    C(
        "batch-out-is-directory",
        lambda w, t: Call(
            ["recommend-batch", w.tifu, "--out", _mkdir(t / "recs_dir")],
            [str(t / "recs_dir")],
            after=no_leftovers(t),
        ),
        1,
    ),
    C("batch-out-is-dataset-file", _batch_into_dataset, 1),
    C("batch-out-is-model-file", _batch_into_model, 1),
    C(
        "batch-customers-latin1",
        _batch(
            lambda t: write_text(t, "ids.txt", "Jos\u00e9\nM\u00fcller\n", "latin-1"),
            mention=["ids.txt"],
        ),
        1,
    ),
    C(
        "batch-customers-empty",
        _batch(lambda t: write_bytes(t, "ids.txt", b""), mention=["ids.txt"]),
        1,
    ),
    C(
        "batch-customers-blank-lines",
        _batch(lambda t: write_text(t, "ids.txt", "\n  \n\n"), mention=["ids.txt"]),
        1,
    ),
    C("batch-customers-missing", _batch(lambda t: t / "ids.txt", mention=["ids.txt"]), 1),
    C("batch-customers-is-dir", _batch(lambda t: t, mention=[]), 1),
    C(
        "batch-customers-binary",
        _batch(lambda t: write_bytes(t, "ids.bin", GARBAGE), mention=["ids.bin"]),
        1,
    ),
    C(
        "batch-customers-all-unknown",
        _batch(lambda t: write_text(t, "ids.txt", "ghost-1\nghost-2\n"), mention=["ghost-1"]),
        1,
    ),
    C("batch-cannot-rank", _batch(None, which="cop", mention=["copurchase"]), 2),
    C(
        "batch-on-dataset",
        lambda w, t: Call(["recommend-batch", w.ds, "--out", t / "r.parquet"], ["DS"]),
        1,
    ),
    C("batch-good-control", _batch(None, "-n", 2), 0),
]

# export --------------------------------------------------------------------------------------

EXPORT = [
    C(
        "export-customers-without-vectors",
        lambda w, t: Call(
            ["export", w.tifu, "--what", "customers", "--out", t / "v.parquet"], ["tifu-knn"]
        ),
        2,
    ),
    C(
        "export-no-vectors",
        lambda w, t: Call(["export", w.tifu, "--out", t / "v.parquet"], ["tifu-knn"]),
        2,
    ),
    C(
        "export-format-bogus",
        lambda w, t: Call(["export", w.i2v, "--out", t / "v.parquet", "--format", "csv"]),
        2,
    ),
    C(
        "export-what-bogus",
        lambda w, t: Call(["export", w.i2v, "--out", t / "v.parquet", "--what", "baskets"]),
        2,
    ),
    C(
        "export-out-parent-is-file",
        lambda w, t: Call(
            ["export", w.i2v, "--out", write_text(t, "plain.txt", "x") / "v.parquet"], ["plain.txt"]
        ),
        1,
    ),
    C(
        "export-out-is-directory",
        lambda w, t: Call(
            ["export", w.i2v, "--out", _mkdir(t / "vec_dir")],
            [str(t / "vec_dir")],
            after=no_leftovers(t),
        ),
        1,
    ),
    C("export-out-is-model-file", _export_into_model, 1),
    C(
        "export-on-dataset",
        lambda w, t: Call(["export", w.ds, "--out", t / "v.parquet"], ["DS"]),
        1,
    ),
    C(
        "export-corrupt-vectors",
        lambda w, t: Call(
            [
                "export",
                model_copy(w, t, "i2v", _truncate("item_vectors.npy")),
                "--out",
                t / "v.parquet",
            ],
            ["item_vectors.npy"],
        ),
        1,
    ),
]

# segment -------------------------------------------------------------------------------------


def _segment(
    k: Any, mention: Sequence[Any] = (), which: str = "i2v", what: str = "items"
) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(
        ["segment", getattr(w, which), "--out", t / "SEG", "--what", what, "--k", k], list(mention)
    )


def _segment_into_model(w: World, t: Path) -> Call:
    model = copy(w.i2v, t, "M")
    return Call(
        ["segment", model, "--out", model, "--what", "items", "--k", 2, "--overwrite"],
        ["M"],
        after=intact(model),
    )


def _segment_into_dataset(w: World, t: Path) -> Call:
    ds = copy(w.ds, t, "D")
    return Call(
        ["segment", w.i2v, "--out", ds, "--what", "items", "--k", 2, "--overwrite"],
        ["D"],
        after=intact_dataset(ds),
    )


def _segment_into_foreign(w: World, t: Path) -> Call:
    folder = t / "mine"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n")
    return Call(
        ["segment", w.i2v, "--out", folder, "--what", "items", "--k", 2, "--overwrite"],
        ["mine"],
        after=intact(folder),
    )


SEGMENT = [
    C("segment-k-zero", _segment(0), 2),
    C("segment-k-one", _segment(1), 2),
    C("segment-k-abc", _segment("abc"), 2),
    C("segment-k-negative", _segment(-3), 2),
    C("segment-k-huge", _segment(100000, mention=["100000"]), EITHER),
    C(
        "segment-no-vectors",
        lambda w, t: Call(
            ["segment", w.tifu, "--out", t / "SEG", "--k", 2], ["tifu-knn"], forbid=["not fitted"]
        ),
        2,
    ),
    C("segment-out-is-dataset-overwrite", _segment_into_dataset, 1),
    C(
        "segment-what-bogus",
        lambda w, t: Call(["segment", w.i2v, "--out", t / "SEG", "--what", "baskets"]),
        2,
    ),
    C(
        "segment-nonexistent",
        lambda w, t: Call(["segment", t / "nowhere", "--out", t / "SEG"], ["nowhere"]),
        1,
    ),
    C("segment-on-dataset", lambda w, t: Call(["segment", w.ds, "--out", t / "SEG"], ["DS"]), 1),
    C("segment-out-is-model-overwrite", _segment_into_model, 1),
    C("segment-out-foreign-folder-overwrite", _segment_into_foreign, 1),
]

# evaluate ------------------------------------------------------------------------------------


def _evaluate(
    *extra: Any, mention: Sequence[Any] = (), dataset: Callable[[World], Path] | None = None
) -> Callable[[World, Path], Call]:
    def make(w: World, t: Path) -> Call:
        base = ["--models", "popularity"] if "--models" not in extra else []
        return Call(["evaluate", (dataset or (lambda w: w.ds))(w), *base, *extra], list(mention))

    return make


def _evaluate_into_dataset(w: World, t: Path) -> Call:
    ds = copy(w.ds, t, "D")
    return Call(
        ["evaluate", ds, "--models", "popularity", "--out", ds / "transactions.parquet"],
        ["transactions.parquet"],
        after=intact_dataset(ds),
    )


EVALUATE = [
    C(
        "evaluate-unknown-model",
        _evaluate("--models", "popularity,word3vec", mention=["word3vec"]),
        2,
    ),
    C("evaluate-cannot-rank-model", _evaluate("--models", "copurchase", mention=["copurchase"]), 2),
    C("evaluate-models-empty", _evaluate("--models", " , "), 2),
    C("evaluate-k-zero", _evaluate("-k", "0"), 2),
    C("evaluate-k-negative", _evaluate("-k", "10,-5"), 2),
    C("evaluate-k-abc", _evaluate("-k", "abc"), 2),
    C("evaluate-k-empty", _evaluate("-k", ","), 2),
    C("evaluate-protocol-bogus", _evaluate("--protocol", "bogus"), 2),
    C("evaluate-min-baskets-zero", _evaluate("--min-baskets", 0), 2),
    C("evaluate-sample-zero", _evaluate("--sample", 0), 2),
    C("evaluate-on-model", _evaluate(dataset=lambda w: w.tifu, mention=["tifu-knn"]), 1),
    C(
        "evaluate-nonexistent",
        lambda w, t: Call(["evaluate", t / "nowhere", "--models", "popularity"], ["nowhere"]),
        1,
    ),
    C(
        "evaluate-copurchase-only-dataset",
        _evaluate(dataset=lambda w: w.cop.parent / "CP", mention=["CP"]),
        1,
    ),
    C("evaluate-out-is-dataset-file", _evaluate_into_dataset, 1),
    C(
        "evaluate-truncated-transactions",
        lambda w, t: Call(
            [
                "evaluate",
                ds_copy(w, t, _truncate("transactions.parquet")),
                "--models",
                "popularity",
            ],
            ["transactions.parquet"],
        ),
        1,
    ),
]

# serve ---------------------------------------------------------------------------------------


def _serve(
    model: Callable[[World, Path], Path], *extra: Any, mention: Sequence[Any] = ()
) -> Callable[[World, Path], Call]:
    return lambda w, t: Call(["serve", model(w, t), "--port", 0, *extra], list(mention))


SERVE = [
    C("serve-non-model-dir", lambda w, t: Call(["serve", t, "--port", 0], [t.name]), 1),
    C("serve-on-dataset", _serve(lambda w, t: w.ds, mention=["DS"]), 1),
    C("serve-nonexistent", _serve(lambda w, t: t / "nowhere", mention=["nowhere"]), 1),
    C("serve-port-negative", lambda w, t: Call(["serve", w.i2v, "--port", -5]), 2),
    C("serve-port-too-big", lambda w, t: Call(["serve", w.i2v, "--port", 99999]), 2),
    C("serve-port-abc", lambda w, t: Call(["serve", w.i2v, "--port", "http"]), 2),
    C("serve-map-items-negative", _serve(lambda w, t: w.i2v, "--map-items", -1), 2),
    C(
        "serve-dataset-gone",
        _serve(lambda w, t: model_copy(w, t, "i2v", _gone_dataset), mention=["vanished"]),
        1,
    ),
    C(
        "serve-segments-missing",
        _serve(lambda w, t: w.i2v, "--segments", "no-segments-here", mention=["no-segments-here"]),
        1,
    ),
    C(
        "serve-segments-foreign",
        lambda w, t: Call(["serve", w.i2v, "--port", 0, "--segments", w.ds], ["DS"]),
        1,
    ),
    C(
        "serve-corrupt-model",
        _serve(lambda w, t: model_copy(w, t, "i2v", _write(MJ, b"[]")), mention=[MJ]),
        1,
    ),
]

CLI_CASES = (
    INGEST
    + INFO
    + TRAIN
    + MODEL
    + SIMILAR
    + RECOMMEND
    + BATCH
    + EXPORT
    + SEGMENT
    + EVALUATE
    + SERVE
)


# -- the CLI test --------------------------------------------------------------------------


def _contains(line: str, wanted: str | tuple[str, ...]) -> bool:
    options = (wanted,) if isinstance(wanted, str) else wanted
    return any(option in line for option in options)


def check_ingest_report(out: Path, rows_read: int | None) -> None:
    result = ok(["info", out, "--json"])
    info = json.loads(result.stdout)
    dropped = info["rows_dropped"]
    assert info["rows_read"] == info["rows_kept"] + sum(dropped.values()), info
    stored = len(pd.read_parquet(out / "transactions.parquet"))
    assert info["rows_kept"] == stored, (info, stored)
    if rows_read is not None:
        assert info["rows_read"] == rows_read, info


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_bad_input(
    case: Case, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if case.id.startswith("serve"):
        import uvicorn

        # A serve that wrongly starts returns at once (exit 0) instead of blocking the run.
        monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    call = case.make(world, tmp_path)
    result = invoke(call.args)
    shown = " ".join(str(a) for a in call.args)
    everything = result.output + result.stderr
    context = f"\n$ customer2vec {shown}\nexit {result.exit_code}\n--- output:\n{result.output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        context + f"\n--- exception: {result.exception!r}"
    )
    assert "Traceback" not in everything, context
    assert "Aborted!" not in everything, context
    assert "internal error" not in everything, context
    for unwanted in call.forbid:
        assert unwanted not in everything, context + f"\nthe output should not say {unwanted!r}"
    assert result.exit_code in case.code, context + f"\nexpected exit {sorted(case.code)}"
    stderr_lines = result.stderr.splitlines()
    if result.exit_code == 1:
        errors = [line for line in stderr_lines if line.startswith("error:")]
        assert len(errors) == 1, context + "\nexpected exactly one 'error:' line on stderr"
        for wanted in call.mention:
            assert _contains(errors[0], wanted), (
                context + f"\nthe error line should name {wanted!r}"
            )
    elif result.exit_code == 2:
        assert any(
            line.startswith("error:") or line.startswith("Error:") for line in stderr_lines
        ), context + "\nexpected a usage error on stderr"
        text = result.stderr
        for wanted in call.mention:
            assert _contains(text, wanted), context + f"\nthe usage error should name {wanted!r}"
    elif call.ingest_out is not None:
        check_ingest_report(call.ingest_out, call.rows_read)
    if call.after is not None:
        call.after(result)


# -- library cases -------------------------------------------------------------------------


@dataclass
class Lib:
    id: str
    #: Returns the call to make and the strings its message must contain.
    make: Callable[[World, Path], tuple[Callable[[], Any], Sequence[str]]]
    error: type[Customer2VecError] = DataValidationError
    after: Callable[[World, Path], None] | None = field(default=None)


def _load_model(path: Path) -> Any:
    from customer2vec.models import load_model

    return load_model(path)


def _open_dataset(path: Path) -> Any:
    from customer2vec.data.dataset import Dataset

    return Dataset.open(path)


def _load(
    which: str, corrupt: Callable[[Path], None], *mention: str
) -> Callable[[World, Path], tuple]:
    def make(w: World, t: Path) -> tuple:
        from customer2vec.models import load_model

        model = model_copy(w, t, which, corrupt)
        return (lambda: load_model(model)), mention

    return make


def _open(
    corrupt: Callable[[Path], None], *mention: str, read: bool = False
) -> Callable[[World, Path], tuple]:
    def make(w: World, t: Path) -> tuple:
        from customer2vec.data.dataset import Dataset

        ds = ds_copy(w, t, corrupt)
        if read:
            return (lambda: Dataset.open(ds).read("transactions")), mention
        return (lambda: Dataset.open(ds)), mention

    return make


def _lib_ingest(
    sources: Callable[[World, Path], list[Path]], *mention: str, **options: Any
) -> Callable[[World, Path], tuple]:
    def make(w: World, t: Path) -> tuple:
        from customer2vec.data.ingest import ingest
        from customer2vec.data.mapping import ColumnMapping

        mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at")
        files = sources(w, t)
        return (lambda: ingest(files, t / "OUT", mapping=mapping, **options)), mention

    return make


def _lib_ingest_two_roles(w: World, t: Path) -> tuple:
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    mapping = ColumnMapping(customer="client", basket="ticket", item="client", time="sold_at")
    src = raw_csv(w, t)
    return (lambda: ingest([src], t / "OUT", mapping=mapping)), ["client"]


def _lib_ingest_foreign(w: World, t: Path) -> tuple:
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    folder = t / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"meow")
    mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at")
    src = raw_csv(w, t)
    return (lambda: ingest([src], folder, mapping=mapping, overwrite=True)), ["photos"]


def _rec(
    which: str,
    query: Callable[[Any, World], Any],
    *mention: str,
    corrupt: Callable[[Path], None] | None = None,
) -> Callable[[World, Path], tuple]:
    def make(w: World, t: Path) -> tuple:
        from customer2vec.recommend.recommender import Recommender

        model = model_copy(w, t, which, corrupt) if corrupt else getattr(w, which)
        return (lambda: query(Recommender.load(model), w)), mention

    return make


def _rec_on_dataset(w: World, t: Path) -> tuple:
    from customer2vec.recommend.recommender import Recommender

    return (lambda: Recommender.load(w.ds)), ["DS"]


def _create(name: str, *mention: str, **params: Any) -> Callable[[World, Path], tuple]:
    def make(w: World, t: Path) -> tuple:
        from customer2vec.models import create_model

        return (lambda: create_model(name, **params)), mention

    return make


def _foreign_intact(w: World, t: Path) -> None:
    assert (t / "photos" / "cat.jpg").read_bytes() == b"meow"


LIB_CASES = [
    Lib(
        "lib-load-model-nonexistent",
        lambda w, t: (functools.partial(_load_model, t / "nowhere"), ["nowhere"]),
    ),
    Lib("lib-load-model-dataset-dir", lambda w, t: (functools.partial(_load_model, w.ds), ["DS"])),
    Lib(
        "lib-load-model-npy-truncated",
        _load("i2v", _truncate("item_vectors.npy"), "item_vectors.npy"),
    ),
    Lib(
        "lib-load-model-npy-object",
        _load("i2v", lambda m: _npy_object(m / "item_vectors.npy"), "item_vectors.npy"),
    ),
    Lib(
        "lib-load-model-npy-empty",
        _load("i2v", _write("item_vectors.npy", b""), "item_vectors.npy"),
    ),
    Lib("lib-load-model-json-list", _load("i2v", _write(MJ, b"[]"), MJ)),
    Lib("lib-load-model-state-null", _load("i2v", _json(MJ, set_key("state", None)), MJ)),
    Lib("lib-load-model-params-list", _load("i2v", _json(MJ, set_key("params", [])), MJ)),
    Lib("lib-load-model-newer-version", _load("i2v", _json(MJ, set_key("format_version", 7)), "M")),
    Lib("lib-load-model-invalid-json", _load("i2v", _write(MJ, b"{"), MJ)),
    Lib("lib-load-model-not-utf8", _load("i2v", _write(MJ, b"\xff\xfe{}"), MJ)),
    Lib(
        "lib-load-model-tifu-npy-empty",
        _load("tifu", _write("customers.npy", b""), "customers.npy"),
    ),
    Lib("lib-load-model-state-escape", lambda w, t: _ae_escape_lib(w, t)),
    Lib("lib-dataset-open-json-list", _open(_write("dataset.json", b"[]"), "dataset.json")),
    Lib("lib-dataset-open-json-missing", _open(_remove("dataset.json"), "dataset.json")),
    Lib("lib-dataset-open-json-invalid", _open(_write("dataset.json", b"{x"), "dataset.json")),
    Lib(
        "lib-dataset-open-nonexistent",
        lambda w, t: (functools.partial(_open_dataset, t / "nowhere"), ["nowhere"]),
    ),
    Lib(
        "lib-dataset-read-truncated",
        _open(_truncate("transactions.parquet"), "transactions.parquet", read=True),
    ),
    Lib("lib-ingest-missing-file", _lib_ingest(lambda w, t: [t / "nosuch.csv"], "nosuch.csv")),
    Lib(
        "lib-ingest-header-only",
        _lib_ingest(lambda w, t: [write_text(t, "h.csv", "client,ticket,sku,sold_at\n")], "h.csv"),
    ),
    Lib(
        "lib-ingest-unknown-option",
        _lib_ingest(lambda w, t: [raw_csv(w, t)], "bogus_option", bogus_option=1),
    ),
    Lib(
        "lib-ingest-max-basket-size-negative",
        _lib_ingest(lambda w, t: [raw_csv(w, t)], "max_basket_size", max_basket_size=-1),
        ConfigError,
    ),
    Lib(
        "lib-ingest-memory-limit-lots",
        _lib_ingest(lambda w, t: [raw_csv(w, t)], "lots", memory_limit="lots"),
        ConfigError,
    ),
    Lib("lib-ingest-one-column-two-roles", _lib_ingest_two_roles, Customer2VecError),
    Lib(
        "lib-ingest-garbage-csv",
        _lib_ingest(lambda w, t: [write_bytes(t, "g.csv", GARBAGE)], "g.csv"),
    ),
    Lib("lib-ingest-foreign-out-overwrite", _lib_ingest_foreign, after=_foreign_intact),
    Lib("lib-recommender-cannot-rank", _rec("cop", lambda r, w: r, "copurchase"), ConfigError),
    Lib("lib-recommender-on-dataset", _rec_on_dataset),
    Lib(
        "lib-recommender-dataset-gone",
        _rec("i2v", lambda r, w: r, "vanished", corrupt=_gone_dataset),
    ),
    Lib(
        "lib-recommender-unknown-customer",
        _rec("tifu", lambda r, w: r.recommend("C-nobody", n=3), "C-nobody"),
        UnknownIdError,
    ),
    Lib(
        "lib-recommender-n-zero",
        _rec("tifu", lambda r, w: r.recommend(w.customer, n=0), "n"),
        ConfigError,
    ),
    Lib(
        "lib-recommender-many-unknown",
        _rec("tifu", lambda r, w: r.recommend_many(["ghost"], n=3), "ghost"),
        UnknownIdError,
    ),
    Lib("lib-create-model-unknown", _create("word3vec", "word3vec"), ConfigError),
    Lib("lib-create-model-unknown-param", _create("item2vec", "nosuch", nosuch=1), ConfigError),
]


def _ae_escape_lib(w: World, t: Path) -> tuple:
    from customer2vec.models import load_model

    def corrupt(model: Path) -> None:
        edit_json(model / MJ, lambda d: d["state"]["weights"].__setitem__(0, "../x"))
        np.save(t / "x.npy", np.zeros((3, 3), dtype=np.float32))

    model = model_copy(w, t, "ae", corrupt)
    return (lambda: load_model(model)), ["../x"]


@pytest.mark.parametrize("case", LIB_CASES, ids=[c.id for c in LIB_CASES])
def test_library_bad_input(
    case: Lib, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    call, mention = case.make(world, tmp_path)
    # Anything else (a builtin error from deep inside) propagates and fails the case.
    with pytest.raises(Customer2VecError) as caught:
        call()
    err = caught.value
    assert isinstance(err, case.error), (
        f"expected {case.error.__name__}; got {type(err).__name__}: {err}"
    )
    message = str(err)
    assert message and "\n" not in message.strip(), repr(message)
    for wanted in mention:
        assert wanted in message, f"the message should name {wanted!r}: {message}"
    if case.after is not None:
        case.after(world, tmp_path)


def test_battery_is_large_enough() -> None:
    assert len(CLI_CASES) + len(LIB_CASES) >= 80
    ids = [c.id for c in CLI_CASES] + [c.id for c in LIB_CASES]
    assert len(ids) == len(set(ids))
