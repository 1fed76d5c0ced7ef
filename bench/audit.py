"""What one audit_record INSERT costs (not a timed test): see bench/README.md.

    .venv/bin/python bench/audit.py                        # SQLite and PostgreSQL
    .venv/bin/python bench/audit.py --backends sqlite --requests 2000

For each backend, in a fresh database (SQLite in a temporary data folder; PostgreSQL in a
database `frontline_bench_audit`, created and dropped through --pg-admin-url), a worker
process migrates, builds one household of four residents and a grid worker, then:
  page        GET of the household page through Django's test client (session, policy,
              queries, template);
  page+audit  the same view with the audit_record a household view writes inside the
              request (VIEW_HOUSEHOLD, with the account, the region path and the
              address), an autocommitted INSERT on the request's connection; timed call
              by call in alternation with `page`, medians reported, so both see the
              same machine and the shared machine's spikes drop out;
  insert      audit_record alone against a raw INSERT of the same row through the driver
              cursor (the floor the ORM cannot beat).
It prints the milliseconds per request and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(requests: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import path, reverse
    from django.utils import timezone

    from frontline.accounts.services import user_create
    from frontline.audit.models import AuditAction
    from frontline.audit.services import audit_record, client_ip
    from frontline.people.views import household_detail
    from tests import factories as f

    setup_test_environment()
    call_command("migrate", verbosity=0)
    household = f.household(
        "裕安区/城南镇/陡步河社区/安康小区/1栋", room="101", phone="13800001111"
    )
    for name in ("王秀英", "李强", "李小红", "赵建国"):
        f.resident(household, name, phone="13912345678", care_groups=("独居老人",))
    user = user_create(
        username="bench",
        role="grid_worker",
        region=f.region("裕安区/城南镇/陡步河社区/安康小区"),
        password=None,
    )
    building = household.building

    # The audited page: the household view with the insert inside the request, on the
    # request's own connection (SQLite closes it when each request ends, CONN_MAX_AGE=0),
    # as the view will write it.
    def audited_view(request, pk: int):
        response = household_detail(request, pk)
        audit_record(
            actor=request.user,
            action=AuditAction.VIEW_HOUSEHOLD,
            object_type="household",
            object_id=pk,
            region=building,
            detail={"address": household.address},
            ip=client_ip(request),
        )
        return response

    urls = types.ModuleType("bench_audit_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/households/<int:pk>/", audited_view),
        *import_module(settings.ROOT_URLCONF).urlpatterns,
    ]
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    client = Client()
    client.force_login(user)
    plain_url = reverse("household_detail", args=[household.pk])
    audited_url = f"/bench/households/{household.pk}/"

    def page() -> None:
        assert client.get(plain_url).status_code == 200

    def page_and_audit() -> None:
        assert client.get(audited_url).status_code == 200

    def alternate(first, second, n: int) -> tuple[float, float]:
        """The median ms of each, timed call by call in alternation: a pair of calls
        sees the same machine, and the median ignores the shared machine's spikes."""
        times: tuple[list[float], list[float]] = ([], [])
        for _ in range(n):
            for fn, into in ((first, times[0]), (second, times[1])):
                start = time.perf_counter()
                fn()
                into.append((time.perf_counter() - start) * 1000)
        return statistics.median(times[0]), statistics.median(times[1])

    for _ in range(20):  # warm the caches, the templates, the connection
        page_and_audit()
    plain, audited = alternate(page, page_and_audit, requests)

    columns = "at, actor_id, actor_name, action, object_type, object_id, region, detail, ip"
    params_sql = ", ".join(["%s"] * 9)
    detail = json.dumps({"address": household.address}, ensure_ascii=False)

    def raw_insert() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO audit_auditevent ({columns}) VALUES ({params_sql})",
                [
                    timezone.now(),
                    user.pk,
                    user.username,
                    "view_household",
                    "household",
                    str(household.pk),
                    building.path,
                    detail,
                    "127.0.0.1",
                ],
            )

    def orm_insert() -> None:
        audit_record(
            actor=user,
            action=AuditAction.VIEW_HOUSEHOLD,
            object_type="household",
            object_id=household.pk,
            region=building,
            detail={"address": household.address},
            ip="127.0.0.1",
        )

    raw, orm = alternate(raw_insert, orm_insert, requests)
    return {
        "page_ms": plain,
        "page_audit_ms": audited,
        "raw_insert_ms": raw,
        "audit_record_ms": orm,
        "requests": requests,
    }


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def run_backend(backend: str, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    dbname = "frontline_bench_audit"
    with tempfile.TemporaryDirectory(prefix="frontline-bench-audit-") as work:
        env["FRONTLINE_DATA_DIR"] = work
        if backend == "postgres":
            _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{dbname}"')
            _pg_admin(args.pg_admin_url, f'CREATE DATABASE "{dbname}"')
            env["DATABASE_URL"] = args.pg_admin_url.rsplit("/", 1)[0] + "/" + dbname
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--worker", "--requests", str(args.requests)],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        finally:
            if backend == "postgres":
                _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{backend} worker failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="per variant")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.requests)))
        return
    print(
        f"{'backend':<10} {'page':>9} {'page+audit':>11} {'ratio':>6} {'added':>8}   "
        f"{'raw INSERT':>10} {'audit_record':>12} {'ratio':>6}"
    )
    for backend in args.backends.split(","):
        r = run_backend(backend, args)
        added = r["page_audit_ms"] - r["page_ms"]
        print(
            f"{backend:<10} {r['page_ms']:>7.2f}ms {r['page_audit_ms']:>9.2f}ms "
            f"{r['page_audit_ms'] / r['page_ms']:>6.3f} {added:>6.2f}ms   "
            f"{r['raw_insert_ms']:>8.3f}ms {r['audit_record_ms']:>10.3f}ms "
            f"{r['audit_record_ms'] / r['raw_insert_ms']:>6.2f}"
        )


if __name__ == "__main__":
    main()
