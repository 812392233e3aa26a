"""`customer2vec serve`: the HTTP API and explorer page over one model."""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path

import click
from threadpoolctl import threadpool_limits

from customer2vec.cli._base import CliError, cli, translate_errors

log = logging.getLogger("customer2vec")


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default; the API has no authentication).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option(
    "--segments",
    "segments_dir",
    type=click.Path(path_type=Path),
    help="Folder written by `customer2vec segment` (segments on customer pages, GET /segments).",
)
@click.option(
    "--map-items",
    default=2000,
    show_default=True,
    type=click.IntRange(0, None),
    help="Best-selling items on the 2-D map, projected at start (0: no map).",
)
@translate_errors
def serve(model_dir: Path, host: str, port: int, segments_dir: Path | None, map_items: int) -> None:
    """Serve MODEL_DIR over HTTP: a JSON API with OpenAPI docs, and an explorer page.

    The model is loaded once at start (with the customers' history from its dataset);
    then GET /items/{id}/similar, GET /customers/{id}/recommendations, POST /recommendations
    (a session: a list of item ids), GET /items?q=, GET /segments and GET /health answer
    in milliseconds. The explorer page is at / and the API docs at /docs.

    \b
    Examples:
      customer2vec serve models/i2v
      customer2vec serve models/c2v --segments segments/c2v --port 8080
    """
    from customer2vec.api import create_app, require_serve

    require_serve("fastapi", "uvicorn")
    import uvicorn

    sock = _listen(host, port)
    # One BLAS thread per request: a scoring GEMV split over cores gains nothing under
    # concurrent requests and, on a busy machine, is many times slower (bench/serve.py).
    with sock, threadpool_limits(limits=1, user_api="blas"):
        app = create_app(model_dir, segments_dir=segments_dir, map_items=map_items)
        url = _url(host, sock.getsockname()[1])
        click.echo(f"explorer: {url}/", err=True)
        click.echo(f"API docs: {url}/docs", err=True)
        if not _is_loopback(host):
            click.echo(
                f"warning: listening on {host}: anyone who can reach this machine can query "
                "the model (no authentication).",
                err=True,
            )
        quiet = log.getEffectiveLevel() > logging.INFO
        config = uvicorn.Config(app, log_level="warning" if quiet else "info", access_log=not quiet)
        uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` before the (slow) model load, so a busy port fails fast."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise CliError(f"cannot resolve --host {host!r} ({err.strerror}).") from err
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        raise CliError(
            f"cannot listen on {host}:{port} ({err.strerror}); another server may be using the "
            "port: pass --port N."
        ) from err
    return sock


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
