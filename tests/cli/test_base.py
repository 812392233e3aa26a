"""Error translation: one ``error:`` line, exit 1 for bad input, 2 for bad parameters."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.cli._base import CliError, read_id_list, translate_errors
from customer2vec.errors import ConfigError, DataValidationError


def _command(exc: BaseException) -> click.Command:
    @click.command()
    @translate_errors
    def boom() -> None:
        raise exc

    return boom


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (DataValidationError("bad rows"), 1, "error: bad rows"),
        (ConfigError("`n` must be an int"), 2, "error: `n` must be an int"),
        (FileNotFoundError(2, "No such file or directory", "x.csv"), 1, "error: No such file"),
        (MemoryError(), 1, "error: out of memory."),
        (ZeroDivisionError("division by zero"), 1, "error: internal error (ZeroDivisionError"),
        (EOFError(), 1, "error: internal error (EOFError"),
    ],
)
def test_errors_become_one_line_without_a_traceback(
    exc: BaseException, code: int, line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTOMER2VEC_DEBUG", raising=False)
    result = CliRunner().invoke(_command(exc), [])
    assert result.exit_code == code
    assert isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(line)
    assert "Traceback" not in result.output
    assert "Aborted" not in result.output


def test_debug_variable_shows_the_real_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER2VEC_DEBUG", "1")
    result = CliRunner().invoke(_command(ZeroDivisionError("x")), [])
    assert isinstance(result.exception, ZeroDivisionError)


def test_id_list_keeps_ids_exactly(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes("\ufeff00042137  \r\nCafé\n\n   \n17\n".encode())
    assert read_id_list(path) == ["00042137  ", "Café", "17"]


def test_id_list_that_is_not_utf8_names_the_file_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_bytes("Café\n".encode("latin-1"))
    with pytest.raises(CliError, match=r"ids.txt is not UTF-8 text \(byte 0xe9 at offset 3\)"):
        read_id_list(path)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(CliError, match="holds no ids"):
        read_id_list(empty)


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"customer2vec {name}" in result.output


def test_usage_errors_exit_2(runner):
    assert runner.invoke(cli, ["ingest"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2
    assert runner.invoke(cli, ["ingest", "--preset", "nope", "--out", "x"]).exit_code == 2


def test_module_entry_point_runs():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "customer2vec", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("customer2vec, version ")


def test_library_warnings_are_passed_on_once_and_data_warnings_become_lines(capsys):
    # A regression: re-showing a caught warning inside `catch_warnings(record=True)`
    # appended it to the list being walked, and the command never returned.
    import warnings

    from customer2vec.cli._base import translate_errors
    from customer2vec.errors import DataWarning

    @translate_errors
    def command() -> str:
        warnings.warn("from a library", UserWarning, stacklevel=1)
        warnings.warn("3 rows dropped", DataWarning, stacklevel=1)
        return "done"

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert command() == "done"
    assert [str(w.message) for w in shown] == ["from a library"]
    assert "warning: 3 rows dropped" in capsys.readouterr().err
