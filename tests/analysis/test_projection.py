"""2-D projection: planted groups stay apart, tiny inputs work, bad input is named."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.analysis.projection import project_2d
from customer2vec.errors import ConfigError

pytest.importorskip("openTSNE")


def planted_groups(n_per_group: int = 60, n_groups: int = 3, dim: int = 16, seed: int = 0):
    """Points scattered around ``n_groups`` orthogonal directions, with their group labels."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[:n_groups] * 3.0
    labels = np.repeat(np.arange(n_groups), n_per_group)
    points = centers[labels] + rng.normal(scale=0.6, size=(len(labels), dim))
    return points.astype(np.float32), labels


def neighbor_agreement(xy: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest map neighbors that share its group."""
    distances = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :k]
    return float((labels[nearest] == labels[:, None]).mean())


def test_planted_groups_stay_apart_on_the_map() -> None:
    points, labels = planted_groups()
    xy = project_2d(points, random_state=0, n_jobs=1)
    assert xy.shape == (len(points), 2)
    assert xy.dtype == np.float32
    assert neighbor_agreement(xy, labels) > 0.95
    # Group centroids are far apart relative to the spread inside a group.
    centroids = np.stack([xy[labels == g].mean(axis=0) for g in range(3)])
    spread = max(np.linalg.norm(xy[labels == g] - centroids[g], axis=1).mean() for g in range(3))
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a)]
    assert min(gaps) > 2 * spread


def test_projection_uses_cosine_geometry() -> None:
    """Rows scaled 10x still group by direction, not by length, like the embeddings."""
    points, labels = planted_groups(n_per_group=30, n_groups=2)
    long_rows = np.arange(len(points)) % 2
    scaled = (points * np.where(long_rows == 1, 10.0, 1.0)[:, None]).astype(np.float32)
    xy = project_2d(scaled, n_jobs=1)
    assert neighbor_agreement(xy, labels) > 0.95
    assert neighbor_agreement(xy, long_rows) < 0.75


def test_same_seed_same_map() -> None:
    points, _ = planted_groups(n_per_group=40, n_groups=2)
    first = project_2d(points, random_state=3, n_jobs=1)
    np.testing.assert_array_equal(first, project_2d(points, random_state=3, n_jobs=1))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 9, 10, 12])
def test_tiny_inputs_do_not_crash(n: int) -> None:
    points, _ = planted_groups(n_per_group=12, n_groups=1)
    xy = project_2d(points[:n], n_jobs=1)
    assert xy.shape == (n, 2)
    assert xy.dtype == np.float32
    assert np.isfinite(xy).all()


def test_tiny_input_keeps_the_main_split() -> None:
    """Below the t-SNE threshold two opposite pairs still land on opposite sides."""
    points = np.array([[1, 0.1], [1, -0.1], [-1, 0.1], [-1, -0.1]], dtype=np.float32)
    xy = project_2d(points)
    assert np.sign(xy[0, 0]) == np.sign(xy[1, 0]) != np.sign(xy[2, 0]) == np.sign(xy[3, 0])


def test_duplicate_and_zero_rows_are_fine() -> None:
    points, _ = planted_groups(n_per_group=20, n_groups=2)
    points[5:10] = points[4]
    points[0] = 0.0
    assert np.isfinite(project_2d(points, n_jobs=1)).all()


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"vectors": np.ones(5)}, "vectors"),
        ({"vectors": np.array([[np.nan, 1.0]] * 12)}, "NaN"),
        ({"vectors": np.ones((12, 3)), "n_iter": 0}, "n_iter"),
        ({"vectors": np.ones((12, 3)), "n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_input_names_the_problem(kwargs: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        project_2d(**kwargs)


def test_threaded_neighbor_search_matches_one_thread() -> None:
    from customer2vec.analysis.projection import _cosine_neighbors, _unit

    points, _ = planted_groups(n_per_group=400, n_groups=3)
    unit = _unit(points)
    one, one_distances = _cosine_neighbors(unit, 15, 1)
    two, two_distances = _cosine_neighbors(unit, 15, 2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one_distances, two_distances)
    assert (one != np.arange(len(unit))[:, None]).all()  # a point is not its own neighbor
    assert (np.diff(one_distances, axis=1) >= -1e-6).all()  # nearest first
