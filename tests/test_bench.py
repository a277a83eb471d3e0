"""The `make bench` harness (tools/): its baseline is as bare as promised and is
never part of the site."""

import sys

import pytest
from django.test import override_settings
from django.urls import Resolver404, resolve

from tests.servers import BASE_DIR

sys.path.insert(0, str(BASE_DIR / "tools"))
from bench import LATENCY, UNITS  # noqa: E402

pytestmark = pytest.mark.django_db


def test_the_baseline_is_not_part_of_the_site():
    with pytest.raises(Resolver404):
        resolve("/_bench/baseline/1000/")
    assert not (BASE_DIR / "therapyinfo" / "bench.py").exists()


@override_settings(ROOT_URLCONF="bench_urls")
def test_the_baseline_is_a_fixed_page_of_the_asked_size_with_no_queries(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/_bench/baseline/19066/")
    assert response.status_code == 200
    assert len(response.content) == 19066
    # Same middleware as the pages it is compared with, and never marked cacheable.
    assert response.has_header("Content-Security-Policy")
    assert "public" not in response.get("Cache-Control", "")
    assert client.get("/compare/").status_code == 200


def test_wrk_latency_lines_are_read_in_milliseconds():
    out = "  Latency Distribution\n     50%  812.00us\n     75%    2.10ms\n     99%    1.25s \n"
    found = {p: float(v) * UNITS[u] for p, v, u in LATENCY.findall(out)}
    assert found == {"50": 0.812, "99": 1250.0}
