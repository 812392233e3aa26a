"""Schemathesis over ``/openapi.json``: generated requests, valid and invalid, never get a 5xx.

The whole ``schemathesis run`` (examples, coverage and fuzzing phases; not stateful) runs
in-process on the ASGI app of the tiny two-tribe model of conftest.py: deterministic, a few
dozen requests per operation, a few seconds on one core. Its checks: no 5xx, and every
documented response matches its schema. A failure lists the requests to replay.
"""

from __future__ import annotations

from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis")

from schemathesis.engine import Status, events, from_schema  # noqa: E402

#: Generated requests per operation in the fuzzing phase (the coverage phase adds its
#: boundary cases: huge and negative numbers, empty strings, wrong types, other methods).
MAX_EXAMPLES = 25


def run_schemathesis(app, max_examples: int = MAX_EXAMPLES) -> tuple[Counter, list[str]]:
    """Status codes answered and failed checks of a deterministic in-process run."""
    config = schemathesis.Config.from_dict(
        {
            "seed": 0,
            "generation": {
                "mode": "all",  # valid requests and invalid ones
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    statuses: Counter = Counter()
    problems: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            for interaction in recorder.interactions.values():
                if interaction.response is not None:
                    statuses[interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        problems.append(_describe(check.name, recorder, case_id))
        elif isinstance(event, events.NonFatalError | events.FatalError):
            problems.append(f"{type(event).__name__}: {getattr(event, 'info', event)}")
        elif isinstance(event, events.EngineFinished) and event.stop_reason != "completed":
            problems.append(f"the run stopped early: {event.stop_reason}")
    return statuses, problems


def _describe(check: str, recorder, case_id: str) -> str:
    case = recorder.cases[case_id].value
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = f"{response.status_code} {response.content[:300]!r}" if response is not None else "-"
    return (
        f"{check}: {case.method} {case.path} path={case.path_parameters} query={case.query} "
        f"body={case.body!r:.200} -> {answer}"
    )


def test_generated_requests_never_get_a_server_error(app):
    statuses, problems = run_schemathesis(app)
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert not [code for code in statuses if code >= 500]
    # The run did reach the endpoints: answers, unknown ids and rejected parameters.
    assert statuses[200] > 50 and statuses[404] and statuses[422], statuses
