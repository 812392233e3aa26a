"""Request and response models of the HTTP API (they document ``/docs`` and ``/openapi.json``).

Ids keep their external form: an integer id comes back as a JSON number, a string id as a
JSON string.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr, field_validator

from customer2vec.api.explorer import MAX_N, Scalar

#: An external item or customer id, as the dataset has it.
ExternalId = int | str


class ErrorBody(BaseModel):
    type: str = Field(description="Error class, e.g. UnknownIdError or RequestValidationError.")
    message: str = Field(description="What is wrong and how to fix it.")
    details: list[dict] | None = Field(None, description="Per-field problems (validation only).")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Capabilities(BaseModel):
    similar: bool = Field(description="The model has item vectors (similar items, map).")
    recommend: bool = Field(description="The model ranks items (customer and session recs).")
    customers: bool = Field(description="Customer histories are available.")
    segments: bool = Field(description="Segments were loaded with --segments.")
    map: bool = Field(description="A 2-D map of the best-selling items is available.")


class Health(BaseModel):
    status: str
    version: str
    model: str = Field(description="Registry name of the served model.")
    model_dir: str
    dataset: str = Field(description="Dataset directory the model was trained on.")
    n_items: int
    n_customers: int
    capabilities: Capabilities
    load_seconds: float = Field(description="Seconds spent loading at start.")


class Item(BaseModel):
    item_id: ExternalId
    name: str | None = None
    attributes: dict[str, Scalar] = Field(
        default_factory=dict, description="Display attributes (department, category, ...)."
    )
    count: int = Field(description="Baskets containing the item in the model's dataset.")


class ScoredItem(Item):
    rank: int = Field(description="1 = best.")
    score: float


class ItemDetail(Item):
    has_vector: bool
    segment: int | None = Field(None, description="Product cluster, with item segments.")


class BoughtItem(Item):
    times_bought: int = Field(description="Baskets of this customer containing the item.")


class DistinctiveItem(Item):
    lift: float = Field(description="Share of segment buyers / share of all buyers.")


class SearchResult(BaseModel):
    query: str
    total: int = Field(description="Matching items (only the first n are listed).")
    items: list[Item]


class SimilarItems(BaseModel):
    item: Item
    model: str
    neighbors: list[ScoredItem] = Field(description="Nearest items by cosine, best first.")


class Recommendations(BaseModel):
    customer_id: ExternalId | None = Field(None, description="None for a session.")
    model: str
    exclude_seen: bool = Field(description="Whether items already bought were left out.")
    items: list[ScoredItem]
    warnings: list[str] = Field(
        default_factory=list, description="E.g. session items unknown to the model."
    )
    unknown_items: list[ExternalId] = Field(
        default_factory=list,
        description="Session items the model does not know (left out of the scoring).",
    )


class Session(BaseModel):
    """A new customer's session: the items in their basket so far."""

    items: Annotated[list[StrictInt | StrictStr], Field(min_length=1, max_length=10_000)] = Field(
        description="Item ids of the session (numbers or strings), e.g. [1082185, 995242]."
    )
    n: int = Field(10, ge=1, le=MAX_N, description="Items to return.")
    exclude_seen: bool = Field(True, description="Leave the session's own items out.")

    model_config = {"json_schema_extra": {"examples": [{"items": [1082185, 995242], "n": 5}]}}

    @field_validator("items")
    @classmethod
    def _text_ids_are_unicode(cls, items: list[int | str]) -> list[int | str]:
        # JSON can carry a lone surrogate ("\ud800"), which no stored id can be: reject it
        # here rather than fail while looking it up.
        for i, item in enumerate(items):
            if isinstance(item, str):
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError as err:
                    raise ValueError(
                        f"items[{i}] is not valid Unicode text (a lone surrogate at character "
                        f"{err.start}); send item ids as numbers or UTF-8 text."
                    ) from err
        return items


class CustomerSummary(BaseModel):
    customer_id: ExternalId
    n_baskets: int
    segment: int | None = None


class CustomerList(BaseModel):
    query: str
    total: int
    customers: list[CustomerSummary]


class Basket(BaseModel):
    sequence: int = Field(description="Chronological rank of the basket for this customer.")
    time: str | None = Field(None, description="ISO timestamp, when the dataset has times.")
    items: list[Item]


class CustomerDetail(BaseModel):
    customer_id: ExternalId
    n_baskets: int
    n_lines: int = Field(description="Line items over all baskets.")
    n_items: int = Field(description="Distinct items bought.")
    first_time: str | None = None
    last_time: str | None = None
    segment: int | None = None
    attributes: dict[str, Scalar] = Field(
        default_factory=dict, description="The dataset's customer table (demographics...)."
    )
    top_items: list[BoughtItem]
    baskets: list[Basket] = Field(description="Most recent first.")


class ProfileRow(BaseModel):
    attribute: str | None
    group: str
    share: float = Field(description="Share of the segment's purchases in this group.")
    lift: float = Field(description="Share in segment / share overall.")


class SampleCustomer(BaseModel):
    customer_id: ExternalId
    top_items: str | None = None


class Segment(BaseModel):
    segment: int
    size: int
    share: float
    profile: list[ProfileRow]
    distinctive_items: list[DistinctiveItem]
    sample_customers: list[SampleCustomer]


class Segments(BaseModel):
    available: bool
    hint: str | None = None
    what: str | None = None
    k: int | None = None
    silhouette: float | None = None
    vectors_from: str | None = None
    segments: list[Segment]


class MapPoint(Item):
    x: float
    y: float
    group: Scalar = Field(None, description="Value of the color attribute.")


class ItemMap(BaseModel):
    available: bool
    pending: bool = Field(False, description="The map is still being computed; ask again.")
    hint: str | None = None
    color_by: str | None = Field(None, description="Attribute the points are colored by.")
    points: list[MapPoint]
