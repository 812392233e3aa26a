"""The HTTP API and explorer page (thin: parse, call the :class:`Explorer`, translate errors).

Errors come back as ``{"error": {"type": ..., "message": ...}}``: unknown ids 404, bad
parameters or an unreadable body 422, a request the served model cannot answer (similar items
from a model with no item vectors) 501, not fitted 503, and a bug 500 (traceback logged).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from customer2vec.api import schemas
from customer2vec.api.explorer import MAX_N, Explorer, NotSupportedError
from customer2vec.config import __version__
from customer2vec.errors import (
    Customer2VecError,
    MissingDependencyError,
    NotFittedError,
    UnknownIdError,
)

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorResponse, "description": "Unknown id."},
    422: {"model": schemas.ErrorResponse, "description": "Bad parameter."},
}
RANKING_ERRORS = {**ERRORS, 501: {"model": schemas.ErrorResponse, "description": "Model can't."}}

N_ITEMS = Annotated[int, Query(ge=1, le=MAX_N, description="Items to return.")]
DESCRIPTION = """Similar products, recommendations for customers and sessions, product
search, segments and a 2-D map of the catalogue, from one trained customer2vec model.

The explorer page is at [/](/). Ids keep the dataset's form: `/items/1082185/similar`
finds integer id 1082185. Errors are `{"error": {"type": ..., "message": ...}}`: unknown
ids 404, bad parameters 422, a request the served model cannot answer 501.
"""


def create_app(
    model_dir: str | Path, *, segments_dir: str | Path | None = None, map_items: int = 2000
) -> FastAPI:
    """Load a model once and return the FastAPI app serving it.

    Parameters
    ----------
    model_dir
        A model directory from ``customer2vec train``; its dataset must still exist (the
        customers' history is rebuilt from it).
    segments_dir
        A folder from ``customer2vec segment`` (optional): ``GET /segments`` and the
        customers' segments.
    map_items
        Best-selling items projected to the 2-D map at start (0: no map).

    Raises
    ------
    DataValidationError
        If ``model_dir`` is not a model, its dataset is gone, or the segments do not fit.
    """
    explorer = Explorer(model_dir, segments_dir=segments_dir, map_items=map_items)
    app = FastAPI(
        title=f"customer2vec: {explorer.model.name}",
        version=__version__,
        description=DESCRIPTION,
    )
    app.state.explorer = explorer
    _error_handlers(app)
    _routes(app, explorer)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _routes(app: FastAPI, explorer: Explorer) -> None:
    @app.get("/health", response_model=schemas.Health, tags=["model"])
    def health() -> dict:
        """The served model, its dataset, sizes and what it can answer."""
        return explorer.health()

    @app.get("/items", response_model=schemas.SearchResult, responses=ERRORS, tags=["items"])
    def search_items(
        q: Annotated[str, Query(max_length=200, description="Words in the id/name/attrs.")] = "",
        n: Annotated[int, Query(ge=1, le=MAX_N, description="Items to return.")] = 20,
    ) -> dict:
        """Search products by id, name or attribute (every word must match), best sellers
        first; without ``q``, the best sellers."""
        return explorer.search_items(q, n)

    @app.get(
        "/items/{item_id}", response_model=schemas.ItemDetail, responses=ERRORS, tags=["items"]
    )
    def item(item_id: str) -> dict:
        """One product: name, every catalogue attribute, basket count."""
        return explorer.item(item_id)

    @app.get(
        "/items/{item_id}/similar",
        response_model=schemas.SimilarItems,
        responses=RANKING_ERRORS,
        tags=["items"],
    )
    def similar(item_id: str, n: N_ITEMS = 10) -> dict:
        """The nearest products by the model's item vectors (cosine), with names."""
        return explorer.similar_items(item_id, n)

    @app.get(
        "/customers", response_model=schemas.CustomerList, responses=ERRORS, tags=["customers"]
    )
    def customers(
        q: Annotated[str, Query(max_length=200, description="Part of a customer id.")] = "",
        n: Annotated[int, Query(ge=1, le=MAX_N, description="Customers to return.")] = 20,
        segment: Annotated[int | None, Query(ge=0, description="Only this segment.")] = None,
    ) -> dict:
        """Customers whose id contains ``q``, most baskets first."""
        return explorer.list_customers(q, n, segment)

    @app.get(
        "/customers/{customer_id}",
        response_model=schemas.CustomerDetail,
        responses=ERRORS,
        tags=["customers"],
    )
    def customer(
        customer_id: str,
        baskets: Annotated[int, Query(ge=0, le=MAX_N, description="Recent baskets.")] = 10,
    ) -> dict:
        """A customer's history (most recent baskets first), most bought items, segment and
        attributes."""
        return explorer.customer(customer_id, baskets)

    @app.get(
        "/customers/{customer_id}/recommendations",
        response_model=schemas.Recommendations,
        responses=RANKING_ERRORS,
        tags=["recommendations"],
    )
    def recommend(
        customer_id: str,
        n: N_ITEMS = 10,
        exclude_seen: Annotated[
            bool | None,
            Query(description="Leave out items bought before; default: the model's choice."),
        ] = None,
    ) -> dict:
        """The best items for a customer of the model's dataset."""
        return explorer.recommend(customer_id, n, exclude_seen)

    @app.post(
        "/recommendations",
        response_model=schemas.Recommendations,
        responses=RANKING_ERRORS,
        tags=["recommendations"],
    )
    def recommend_session(session: schemas.Session) -> dict:
        """The best items for a new customer from a session (a list of item ids). Unknown
        items are skipped and reported in ``warnings``; 404 when none is known."""
        return explorer.recommend_session(session.items, session.n, session.exclude_seen)

    @app.get("/segments", response_model=schemas.Segments, tags=["segments"])
    def segments() -> dict:
        """Segments from ``customer2vec segment`` (``serve --segments DIR``): sizes, what each
        buys more than everyone else, distinctive items, sample customers. Without segments,
        an empty list and a hint."""
        return explorer.segment_overview()

    @app.get("/map", response_model=schemas.ItemMap, tags=["items"])
    def item_map() -> dict:
        """The best sellers' item vectors in 2-D, for the explorer map. Computed in the
        background at start: ``pending`` until ready."""
        return explorer.map

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/explorer", include_in_schema=False)
    def explorer_page() -> RedirectResponse:
        return RedirectResponse("/")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        # plotly.js as shipped inside the installed plotly package: the page works offline.
        spec = importlib.util.find_spec("plotly")
        path = None
        if spec is not None and spec.origin is not None:
            path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
        if path is None or not path.is_file():
            raise HTTPException(404, "plotly is not installed: pip install 'customer2vec[viz]'.")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Customer2VecError)
    async def library_error(request: Request, err: Customer2VecError) -> JSONResponse:
        return _error(_status(err), type(err).__name__, str(err))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in err.errors()
        ]
        message = "; ".join(_describe(e) for e in details) or "invalid request"
        return _error(422, "RequestValidationError", message, details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        if err.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8): a bad request body is
            # a validation error here, like a body that is not JSON.
            message = "the request body is not valid JSON (not UTF-8 text)"
            details = [{"loc": ["body"], "msg": str(err.detail), "type": "body_decode"}]
            return _error(422, "RequestValidationError", message, details)
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(err.status_code, "HTTPError")
        return _error(err.status_code, kind, str(err.detail), headers=err.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, err: Exception) -> JSONResponse:
        # A bug: log the traceback, answer in the API's error shape (no traceback to clients).
        log.error("%s %s failed", request.method, request.url.path, exc_info=err)
        message = (
            f"internal error ({type(err).__name__}) answering {request.method} "
            f"{request.url.path}; the server log has the traceback."
        )
        return _error(500, "InternalServerError", message)


def _status(err: Customer2VecError) -> int:
    if isinstance(err, UnknownIdError):
        return 404
    if isinstance(err, NotSupportedError):
        return 501
    if isinstance(err, NotFittedError | MissingDependencyError):
        return 503
    return 422


def _describe(error: dict[str, Any]) -> str:
    """``query.n: Input should be less than or equal to 1000`` style, one per problem."""
    if error["type"] == "json_invalid":
        return (
            f"the request body is not valid JSON ({error['msg']} at character {error['loc'][-1]})"
        )
    loc = [str(part) for part in error["loc"]]
    where = ".".join(loc[1:] if len(loc) > 1 else loc)
    return f"{where}: {error['msg']}" if where else error["msg"]


def _error(
    status: int,
    kind: str,
    message: str,
    details: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": kind, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)
