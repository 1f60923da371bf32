from __future__ import annotations

import json
import logging
import threading
import time

import pytest
from django.test import Client

from switchboard.observability import JsonFormatter, RequestIdFilter, request_id_var, single_instance

pytestmark = [pytest.mark.django_db, pytest.mark.core]


def test_liveness_and_readiness(client: Client):
    assert client.get("/health/live").json() == {"status": "alive"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


def test_metrics_are_for_operators_only(client: Client):
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert "switchboard_webhooks_rejected" in text and "switchboard_ingest_lag_seconds" in text
    assert 'switchboard_signal_events{status="pending"} 0.0' in text


def test_request_id_is_kept_from_the_proxy_or_made(client: Client):
    assert client.get("/health/live", HTTP_X_REQUEST_ID="abc123").headers["X-Request-ID"] == "abc123"
    made = client.get("/health/live", HTTP_X_REQUEST_ID="not valid!").headers["X-Request-ID"]
    assert made.isalnum() and made != "not valid!"


def test_json_log_lines_carry_the_request_id_and_extra_fields():
    record = logging.LogRecord("switchboard.test", logging.INFO, __file__, 1, "stored %s", ("webhook",), None)
    record.webhook_id = 42
    token = request_id_var.set("req-7")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "stored webhook" and line["request_id"] == "req-7" and line["webhook_id"] == 42


def test_a_single_instance_task_never_runs_twice_at_once():
    running, overlaps, runs = [], [], []

    @single_instance("test-sweep", ttl=30)
    def sweep():
        if running:
            overlaps.append(True)
        running.append(1)
        time.sleep(0.3)
        running.pop()
        runs.append(1)
        return "ran"

    results: list = []
    threads = [threading.Thread(target=lambda: results.append(sweep())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and len(runs) == 1
    assert sorted(results, key=str) == [None, None, None, "ran"]
    assert sweep() == "ran"  # the lock is released afterwards


def test_the_system_page_shows_health_and_figures_to_staff_only(client: Client):
    from tests.factories import UserFactory

    operator = UserFactory(is_staff=True)
    agent = UserFactory()
    client.force_login(agent)
    assert client.get("/system/").status_code == 403
    client.force_login(operator)
    page = client.get("/system/").content.decode()
    assert "Readiness" in page and "switchboard_ingest_lag_seconds" in page
