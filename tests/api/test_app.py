"""HTTP API in-process: every endpoint, planted answers on two tribes, errors as JSON."""

from __future__ import annotations

import importlib.util
import logging
import math
import re

import pytest

from customer2vec.api.explorer import MAX_N

STATIC_FILES = ("index.html", "app.js", "style.css")


def tribe_of_item(item_id: int) -> str:
    """Tribe A buys items 100-111, tribe B items 200-211 (see conftest.py)."""
    return "A" if int(item_id) < 200 else "B"


def tribe_of_customer(customer_id: str) -> str:
    """Customers c0-c11 are tribe A, c12-c23 tribe B."""
    return "A" if int(customer_id[1:]) < 12 else "B"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] and body["error"]["message"]
    return body["error"]


# -- health and search --------------------------------------------------------------------
def test_health_names_model_dataset_and_capabilities(client, api_models):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["model"] == "item2vec"
    assert body["dataset"].endswith("tribes")
    assert (body["n_items"], body["n_customers"]) == (24, 24)
    assert body["capabilities"] == {
        "similar": True,
        "recommend": True,
        "customers": True,
        "segments": True,
        "map": client.get("/map").json()["available"],
    }


def test_search_matches_every_word_best_sellers_first(client):
    body = client.get("/items", params={"q": "apple NO.", "n": 100}).json()
    assert body["total"] == 12
    names = [item["name"] for item in body["items"]]
    assert all(name.startswith("Apple") for name in names)
    counts = [item["count"] for item in body["items"]]
    assert counts == sorted(counts, reverse=True)
    assert body["items"][0]["attributes"] == {"department": "Fruit"}
    assert client.get("/items", params={"q": "apple bakery"}).json()["total"] == 0


def test_search_by_attribute_and_exact_id_first(client):
    assert client.get("/items", params={"q": "bakery", "n": 3}).json()["total"] == 12
    body = client.get("/items", params={"q": "203"}).json()
    assert body["items"][0]["item_id"] == 203  # an integer id stays an integer


def test_search_without_query_lists_best_sellers(client):
    body = client.get("/items", params={"n": 5}).json()
    assert body["total"] == 24 and len(body["items"]) == 5


# -- items --------------------------------------------------------------------------------
def test_item_detail_finds_integer_id_from_path(client):
    body = client.get("/items/104").json()
    assert body["item_id"] == 104
    assert body["name"] == "Apple no. 4"
    assert body["attributes"] == {"department": "Fruit"}
    assert body["count"] > 0 and body["has_vector"] is True


def test_similar_items_stay_in_the_tribe(client):
    body = client.get("/items/203/similar", params={"n": 5}).json()
    assert body["item"]["item_id"] == 203
    neighbors = body["neighbors"]
    assert [n["rank"] for n in neighbors] == [1, 2, 3, 4, 5]
    assert 203 not in [n["item_id"] for n in neighbors]
    assert {tribe_of_item(n["item_id"]) for n in neighbors} == {"B"}
    assert all(n["name"].startswith("Bread") for n in neighbors)
    scores = [n["score"] for n in neighbors]
    assert scores == sorted(scores, reverse=True)


def test_unknown_item_is_a_404_json_error(client):
    for path in ("/items/999", "/items/999/similar", "/items/apple/similar"):
        error = error_of(client.get(path), 404)
        assert error["type"] == "UnknownIdError"
        assert "unknown item id" in error["message"] and "GET /items?q=" in error["message"]


# -- customers ----------------------------------------------------------------------------
def test_customer_list_most_baskets_first_and_by_segment(client):
    body = client.get("/customers", params={"q": "c1", "n": 50}).json()
    ids = [c["customer_id"] for c in body["customers"]]
    assert ids and all("c1" in i for i in ids)
    assert body["total"] == len(ids) == 11  # c1, c10-c19
    assert ids[0] == "c1"  # the exact id first, whatever its basket count
    segment = body["customers"][0]["segment"]
    in_segment = client.get("/customers", params={"segment": segment, "n": 50}).json()
    assert {c["segment"] for c in in_segment["customers"]} == {segment}


def test_customer_detail_history_segment_and_attributes(client):
    body = client.get("/customers/c3", params={"baskets": 2}).json()
    assert body["customer_id"] == "c3"
    assert body["n_baskets"] == 4 and body["n_lines"] == 12
    assert [b["sequence"] for b in body["baskets"]] == [4, 3]  # most recent first
    assert body["baskets"][0]["time"] > body["baskets"][1]["time"]
    assert all(tribe_of_item(i["item_id"]) == "A" for b in body["baskets"] for i in b["items"])
    assert body["top_items"][0]["times_bought"] >= body["top_items"][-1]["times_bought"]
    assert body["attributes"] == {"has_kids": True}
    assert body["segment"] in (0, 1)
    assert body["first_time"] < body["last_time"]


def test_segments_separate_the_tribes(client):
    body = client.get("/segments").json()
    assert body["available"] and body["what"] == "customers" and body["k"] == 2
    assert sum(s["size"] for s in body["segments"]) == 24
    for segment in body["segments"]:
        members = client.get("/customers", params={"segment": segment["segment"], "n": 50})
        tribes = {tribe_of_customer(c["customer_id"]) for c in members.json()["customers"]}
        assert len(tribes) == 1
        assert segment["profile"][0]["attribute"] == "department"
        samples = [c["customer_id"] for c in segment["sample_customers"]]
        assert samples and {tribe_of_customer(c) for c in samples} == tribes


def test_customer_recommendations_stay_in_the_tribe_and_skip_bought(client):
    # A tribe-B customer who left at least 3 of the 12 bread items unbought.
    customer = next(
        f"c{i}" for i in range(12, 24) if client.get(f"/customers/c{i}").json()["n_items"] <= 9
    )
    history = client.get(f"/customers/{customer}", params={"baskets": 100}).json()
    bought = {i["item_id"] for b in history["baskets"] for i in b["items"]}
    body = client.get(f"/customers/{customer}/recommendations", params={"n": 3}).json()
    assert body["customer_id"] == customer and body["model"] == "item2vec"
    assert body["exclude_seen"] is True
    ids = [i["item_id"] for i in body["items"]]
    assert len(ids) == 3 and not set(ids) & bought
    assert {tribe_of_item(i) for i in ids} == {"B"}
    seen = client.get(
        f"/customers/{customer}/recommendations", params={"n": 3, "exclude_seen": "false"}
    ).json()
    assert seen["exclude_seen"] is False and {i["item_id"] for i in seen["items"]} & bought


def test_session_recommendations(client):
    body = client.post("/recommendations", json={"items": [101, "102"], "n": 4}).json()
    assert body["customer_id"] is None and body["warnings"] == []
    assert body["unknown_items"] == []
    ids = [i["item_id"] for i in body["items"]]
    assert len(ids) == 4 and {tribe_of_item(i) for i in ids} == {"A"}
    assert not {101, 102} & set(ids)


def test_session_with_some_unknown_items_warns(client):
    body = client.post("/recommendations", json={"items": [201, 999, "nope"]}).json()
    assert len(body["warnings"]) == 1 and "2 of 3 session items" in body["warnings"][0]
    assert body["unknown_items"] == [999, "nope"]  # every one, exactly as sent
    assert {tribe_of_item(i["item_id"]) for i in body["items"]} == {"B"}


def test_unknown_customer_and_session_are_404_json_errors(client):
    error = error_of(client.get("/customers/c999/recommendations"), 404)
    assert "unknown customer id 'c999'" in error["message"]
    error_of(client.get("/customers/c999"), 404)
    error = error_of(client.post("/recommendations", json={"items": [999]}), 404)
    assert "none of the 1 session items" in error["message"]


# -- bad parameters: 422, never 500 -------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "kwargs", "where"),
    [
        ("get", "/items/101/similar", {"params": {"n": 0}}, "n"),
        ("get", "/items/101/similar", {"params": {"n": MAX_N + 1}}, "n"),
        ("get", "/items/101/similar", {"params": {"n": 10**30}}, "n"),
        ("get", "/items/101/similar", {"params": {"n": "ten"}}, "n"),
        ("get", "/items", {"params": {"n": -1}}, "n"),
        ("get", "/items", {"params": {"q": "x" * 201}}, "q"),
        ("get", "/customers/c1/recommendations", {"params": {"n": 0}}, "n"),
        ("get", "/customers/c1/recommendations", {"params": {"exclude_seen": "maybe"}}, "exclude"),
        ("get", "/customers/c1", {"params": {"baskets": -1}}, "baskets"),
        ("get", "/customers", {"params": {"segment": "x"}}, "segment"),
        ("post", "/recommendations", {"content": b"{not json"}, "JSON"),
        ("post", "/recommendations", {"json": {"items": []}}, "items"),
        ("post", "/recommendations", {"json": {"items": "101"}}, "items"),
        ("post", "/recommendations", {"json": {"items": [True]}}, "items"),
        ("post", "/recommendations", {"json": {"items": [1.5]}}, "items"),
        ("post", "/recommendations", {"json": {"items": [101], "n": 0}}, "n"),
        ("post", "/recommendations", {"json": {"items": [101], "n": MAX_N + 1}}, "n"),
        ("post", "/recommendations", {"json": {}}, "items"),
        ("post", "/recommendations", {}, "body"),
    ],
)
def test_bad_parameters_are_422_json_errors(client, method, path, kwargs, where):
    headers = {"content-type": "application/json"} if "content" in kwargs else None
    error = error_of(getattr(client, method)(path, headers=headers, **kwargs), 422)
    assert error["type"] == "RequestValidationError"
    assert where in error["message"]
    assert error["details"]


def test_segment_filter_without_segments_is_422(api_models):
    from fastapi.testclient import TestClient

    from customer2vec.api import create_app

    bare = TestClient(create_app(api_models["item2vec"], map_items=0))
    error = error_of(bare.get("/customers", params={"segment": 0}), 422)
    assert "customer2vec segment" in error["message"]
    body = bare.get("/segments").json()
    assert body == {
        "available": False,
        "hint": body["hint"],
        "what": None,
        "k": None,
        "silhouette": None,
        "vectors_from": None,
        "segments": [],
    }
    assert "--segments" in body["hint"]
    assert bare.get("/customers/c3").json()["segment"] is None
    assert bare.get("/map").json()["hint"] == "the map is off (map_items=0)."


@pytest.mark.parametrize(
    "path",
    [
        "/items/%00",
        "/items/%F0%9F%8D%8E/similar",
        "/items/-1/similar?n=1",
        f"/items/{'9' * 400}/similar",
        "/items/1e3",
        "/items/%20",
        "/customers/%00/recommendations",
        "/customers/-0",
        f"/customers/{'c' * 5000}",
        "/items?q=%00&n=1",
        "/items?q=%5B(*",
        "/items?q=%FF%FE",
        "/items/%ED%A0%80",  # an encoded lone surrogate
        "/items/%2F/similar",
        "/items/+101",
        "/items/-9223372036854775809",
        f"/items/{'%F0%9F%8D%8E' * 2000}",
        "/items/101/similar?n=1.5",
        "/items/101/similar?n=",
        "/items?n=1&n=2",
        "/customers?q=.*",
        "/customers?segment=99999999999999999999999",
        "/customers/c1/recommendations?exclude_seen=",
        "/no/such/route",
    ],
)
def test_odd_inputs_never_give_500(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404, 422), response.text
    if response.status_code != 200:
        error_of(response, response.status_code)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"items": [101, "\\ud800"]}', "items[1] is not valid Unicode"),  # a lone surrogate
        (b'{"items": [\x96\xab\xfe]}', "not valid JSON"),
        (b"\x96ps<%\xabZ]\xd4\xfe\x96>\x1c\xfa\xff\xc3", "UTF-8"),
    ],
)
def test_unreadable_session_bodies_are_422(client, body, where):
    response = client.post(
        "/recommendations", content=body, headers={"content-type": "application/json"}
    )
    error = error_of(response, 422)
    assert error["type"] == "RequestValidationError" and where in error["message"]


def test_a_bug_is_a_json_500_and_its_traceback_is_logged(app, client, monkeypatch, caplog):
    def broken() -> dict:
        raise RuntimeError("planted bug")

    monkeypatch.setattr(app.state.explorer, "health", broken)
    with caplog.at_level(logging.ERROR, logger="customer2vec.api.app"):
        error = error_of(client.get("/health"), 500)
    assert error["type"] == "InternalServerError"
    assert "RuntimeError" in error["message"] and "GET /health" in error["message"]
    assert "planted bug" not in error["message"]  # details stay in the server log
    logged = [r for r in caplog.records if r.exc_info and "planted bug" in str(r.exc_info[1])]
    assert logged and logged[0].getMessage() == "GET /health failed"


def test_wrong_method_is_a_json_405(client):
    assert error_of(client.delete("/health"), 405)["type"] == "MethodNotAllowed"


# -- models that cannot answer everything -------------------------------------------------
def test_model_without_item_vectors_answers_501_for_similar(api_models):
    from fastapi.testclient import TestClient

    from customer2vec.api import create_app

    tifu = TestClient(create_app(api_models["tifu-knn"]))
    health = tifu.get("/health").json()
    assert health["capabilities"]["similar"] is False and health["capabilities"]["map"] is False
    error = error_of(tifu.get("/items/101/similar"), 501)
    assert "no item vectors" in error["message"]
    assert "no item vectors" in tifu.get("/map").json()["hint"]
    recs = tifu.get("/customers/c2/recommendations", params={"n": 5}).json()
    assert recs["exclude_seen"] is False  # a next-basket baseline keeps repeats
    assert {tribe_of_item(i["item_id"]) for i in recs["items"]} == {"A"}
    assert tifu.get("/items", params={"q": "bread"}).json()["total"] == 12


def test_model_that_cannot_rank_answers_501_for_recommendations(api_models):
    from fastapi.testclient import TestClient

    from customer2vec.api import create_app

    copurchase = TestClient(create_app(api_models["copurchase"], map_items=0))
    assert copurchase.get("/health").json()["capabilities"]["recommend"] is False
    error = error_of(copurchase.get("/customers/c1/recommendations"), 501)
    assert "cannot rank" in error["message"]
    error_of(copurchase.post("/recommendations", json={"items": [101]}), 501)
    neighbors = copurchase.get("/items/101/similar", params={"n": 3}).json()["neighbors"]
    assert neighbors and {tribe_of_item(n["item_id"]) for n in neighbors} == {"A"}
    assert copurchase.get("/customers/c1").json()["n_baskets"] == 3  # one fewer (conftest)


def test_bad_model_or_segments_directory_fails_at_creation(api_models, tmp_path):
    from customer2vec.api import create_app
    from customer2vec.errors import DataValidationError

    with pytest.raises(DataValidationError, match="not a customer2vec model"):
        create_app(tmp_path)
    with pytest.raises(DataValidationError, match="not a segment folder"):
        create_app(api_models["item2vec"], segments_dir=tmp_path, map_items=0)


# -- map, docs and the page ---------------------------------------------------------------
def test_map_projects_the_best_sellers(client):
    body = client.get("/map").json()
    assert body["available"] and body["color_by"] == "department"
    points = body["points"]
    assert len(points) == 12
    assert all(math.isfinite(p["x"]) and math.isfinite(p["y"]) for p in points)
    assert {p["group"] for p in points} <= {"Fruit", "Bakery"}
    counts = [p["count"] for p in points]
    assert counts == sorted(counts, reverse=True)


def test_map_is_computed_in_the_background(api_models, monkeypatch):
    """The API answers while the map is projected; /map says pending, then has the points."""
    import threading

    import numpy as np
    from fastapi.testclient import TestClient

    from customer2vec.analysis import projection
    from customer2vec.api import create_app

    release = threading.Event()

    def slow_projection(vectors, *, random_state=0, n_jobs=1):
        assert release.wait(60)
        return np.zeros((len(vectors), 2), dtype=np.float32)

    monkeypatch.setattr(projection, "project_2d", slow_projection)
    app = create_app(api_models["item2vec"], map_items=5)
    client = TestClient(app)
    pending = client.get("/map").json()
    assert pending["pending"] is True and pending["points"] == []
    assert "being computed" in pending["hint"]
    assert client.get("/health").json()["capabilities"]["map"] is False
    assert client.get("/items/101/similar").status_code == 200
    release.set()
    assert app.state.explorer.map_ready.wait(60)
    ready = client.get("/map").json()
    assert ready["available"] is True and ready["pending"] is False
    assert len(ready["points"]) == 5


def test_openapi_documents_every_endpoint_and_the_error_shape(client):
    spec = client.get("/openapi.json").json()
    for path in (
        "/items/{item_id}/similar",
        "/customers/{customer_id}/recommendations",
        "/recommendations",
        "/items",
        "/segments",
        "/health",
    ):
        assert path in spec["paths"]
    similar = spec["paths"]["/items/{item_id}/similar"]["get"]["responses"]
    assert similar["404"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert "ScoredItem" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_page_and_its_assets_are_served_without_any_cdn(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for name in STATIC_FILES[1:]:
        assert client.get(f"/static/{name}").status_code == 200
    for name in STATIC_FILES:
        text = client.get("/" if name == "index.html" else f"/static/{name}").text
        # No absolute or protocol-relative URL: everything comes from this app, offline.
        assert not re.search(r"https?://|[\"'(]//[\w.-]+\.[a-z]{2,}", text), name
    plotly = client.get("/vendor/plotly.min.js")
    if importlib.util.find_spec("plotly") is None:
        error_of(plotly, 404)
    else:
        assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
