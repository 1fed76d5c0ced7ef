"""Load on the five orders (not a timed test): see bench/README.md.

    .venv/bin/python bench/requests.py                     # 200 users, 60 s, PostgreSQL
    .venv/bin/python bench/requests.py --users 50 --seconds 15

In a fresh PostgreSQL database (`frontline_bench_requests`, created and dropped through
--pg-admin-url) it migrates, builds one compound of 200 households with grid workers
(dispatchers) and volunteers (assignees), each with an API token, and starts the app under
its production server (`frontline serve`, waitress) in a child process. Then, from threads
of this process (the same machine), it measures:

  baseline  the same server's throughput on a trivial view (GET /api/v1/, no database),
            with the same number of concurrent users, for a quarter of the time;
  load      `--users` concurrent simulated users for `--seconds`: a third submit requests
            (POST /api/v1/requests, each with an Idempotency-Key, and one in ten sent twice
            as a client retry would), a third dispatch (list the received ones, dispatch one
            to a random volunteer: two dispatchers racing on one request is expected and
            answers 409), a third step what is assigned to them (deliver, then report).

Afterwards it checks in the database: no lost request (every 201 is a row), no duplicate
(one row per Idempotency-Key), no double assignment (at most one dispatch per request) and
no 5xx; and prints throughput, p50/p95 latency and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DB = os.environ.get("FRONTLINE_BENCH_DB", "frontline_bench_requests")


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _env(db_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "frontline.settings",
        # The sweep would compete for the same machine; it is not what is measured here.
        "FRONTLINE_SEARCH_PER_MINUTE": "0",
    }


SETUP = r"""
import json, django
django.setup()
from django.conf import settings
# Nobody signs in with a password here; a fast hasher keeps the setup from taking minutes.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from frontline.accounts.services import user_create, user_token
from tests import factories as f
ANKANG = "裕安区/城南镇/陡步河社区/安康小区"
households = [
    f.household(f"{ANKANG}/{b + 1}栋", unit=str(u + 1), room=f"{r + 1}01").pk
    for b in range(10) for u in range(2) for r in range(10)
]
region = f.region(ANKANG)
tokens = {"dispatchers": [], "assignees": {}}
for i in range(20):
    u = user_create(username=f"gw{i}", role="grid_worker", region=region, password="bench-password-1")
    tokens["dispatchers"].append(user_token(user=u))
for i in range(40):
    u = user_create(username=f"vol{i}", role="volunteer", region=region, password="bench-password-1")
    tokens["assignees"][u.username] = user_token(user=u)
print(json.dumps({"households": households, **tokens}))
"""

CHECK = r"""
import json, django
django.setup()
from django.db.models import Count
from frontline.requests.models import Request, RequestEvent
keys = list(Request.objects.exclude(idempotency_key="").values("created_by", "idempotency_key")
    .annotate(n=Count("id")).filter(n__gt=1))
double = RequestEvent.objects.filter(step="dispatch").values("request").annotate(n=Count("id")).filter(n__gt=1).count()
print(json.dumps({
    "rows": Request.objects.count(),
    "ids": sorted(Request.objects.values_list("id", flat=True)),
    "duplicate_keys": len(keys),
    "double_dispatch": double,
}))
"""


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.codes: dict[int, int] = {}
        self.created: set[int] = set()

    def add(self, ms: float, code: int) -> None:
        with self.lock:
            self.latencies.append(ms)
            self.codes[code] = self.codes.get(code, 0) + 1


def call(base, method, path, token=None, body=None, headers=None, stats=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            code, payload = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        code, payload = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        code, payload = 599, b""
    ms = (time.perf_counter() - start) * 1000
    if stats is not None:
        stats.add(ms, code)
    try:
        return code, json.loads(payload) if payload else None
    except ValueError:
        return code, None


def pause(think, idle):
    """A user's pause after an action: `think` is (min, max) seconds like a person reading
    and tapping; with no think time (the capacity phase), `idle` when there was nothing to do."""
    low, high = think
    if high > 0:
        time.sleep(random.uniform(low, high))
    elif idle:
        time.sleep(idle)


def resident(base, setup, stats, until, think):
    token = random.choice(setup["dispatchers"])
    while time.perf_counter() < until:
        key = uuid.uuid4().hex
        body = {
            "household": random.choice(setup["households"]),
            "category": random.choice(["groceries", "medicine", "repair", "other"]),
            "urgency": "normal",
            "description": "bench",
            "channel": "resident",
        }
        for _attempt in range(2 if random.random() < 0.1 else 1):
            code, data = call(
                base, "POST", "/api/v1/requests", token, body, {"Idempotency-Key": key}, stats
            )
            if code == 201 and data:
                with stats.lock:
                    stats.created.add(data["id"])
        pause(think, 0)


def dispatcher(base, setup, stats, until, think):
    token = random.choice(setup["dispatchers"])
    people = list(setup["assignees"])
    while time.perf_counter() < until:
        code, data = call(
            base, "GET", "/api/v1/requests?status=received&page_size=20", token, stats=stats
        )
        if code != 200 or not data or not data["results"]:
            pause(think, 0.05)
            continue
        pause(think, 0)  # reading the list, choosing one
        target = random.choice(data["results"])["id"]
        call(
            base,
            "POST",
            f"/api/v1/requests/{target}/dispatch",
            token,
            {"assignee": random.choice(people)},
            stats=stats,
        )
        pause(think, 0)


def assignee(base, setup, stats, until, name, think):
    token = setup["assignees"][name]
    while time.perf_counter() < until:
        moved = False
        for status, step in (("dispatched", "deliver"), ("delivering", "report")):
            code, data = call(
                base,
                "GET",
                f"/api/v1/requests?status={status}&assignee=me&page_size=5",
                token,
                stats=stats,
            )
            mine = [r for r in (data or {}).get("results", []) if r["assignee"] == name]
            pause(think, 0)
            if code == 200 and mine:
                call(
                    base, "POST", f"/api/v1/requests/{mine[0]['id']}/{step}", token, {}, stats=stats
                )
                moved = True
                pause(think, 0)
        if not moved:
            pause((0, 0), 0.1)


def baseline(base, users, seconds):
    stats = Stats()
    until = time.perf_counter() + seconds

    def hit():
        while time.perf_counter() < until:
            call(base, "GET", "/api/v1/", stats=stats)

    threads = [threading.Thread(target=hit) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(stats.latencies) / seconds, stats


def _cpu(pids) -> float:
    """CPU seconds (user + system) used so far by these processes, gone ones as 0."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _server_pids(server_pid: int) -> list[int]:
    """The server and its worker processes (children)."""
    pids = [server_pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid:
            pids.append(int(stat.parent.name))
    return pids


def _backend_pids(db_url: str) -> list[int]:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """Where the machine's CPU went during a phase: the server's processes, this client
    process, and the database's backends for this database (those alive at the end)."""

    def __init__(self, server_pid: int, db_url: str) -> None:
        self.server_pid, self.db_url = server_pid, db_url

    def __enter__(self):
        self.wall = time.perf_counter()
        self.server = _cpu(_server_pids(self.server_pid))
        self.client = time.process_time()
        self.backends = {pid: _cpu([pid]) for pid in _backend_pids(self.db_url)}
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.server = _cpu(_server_pids(self.server_pid)) - self.server
        self.client = time.process_time() - self.client
        pids = _backend_pids(self.db_url)
        self.database = sum(_cpu([pid]) - self.backends.get(pid, 0.0) for pid in pids)

    def per_request_ms(self, requests: int) -> dict:
        n = max(requests, 1)
        return {
            "server": round(self.server * 1000 / n, 2),
            "database": round(self.database * 1000 / n, 2),
            "client": round(self.client * 1000 / n, 2),
            "cores_busy": round((self.server + self.database + self.client) / self.wall, 2),
        }


def run_mix(base, setup, n_users, seconds, think, server, db_url):
    """`n_users` simulated users for `seconds`: a third residents, a third dispatchers, a
    third assignees (see the module's docstring)."""
    stats = Stats()
    until = time.perf_counter() + seconds
    names = list(setup["assignees"])
    threads = []
    for i in range(n_users):
        kind = i % 3
        if kind == 0:
            t = threading.Thread(target=resident, args=(base, setup, stats, until, think))
        elif kind == 1:
            t = threading.Thread(target=dispatcher, args=(base, setup, stats, until, think))
        else:
            name = names[i % len(names)]
            t = threading.Thread(target=assignee, args=(base, setup, stats, until, name, think))
        threads.append(t)
    started = time.perf_counter()
    with CpuMeter(server.pid, db_url) as cpu:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    stats.elapsed = time.perf_counter() - started
    stats.cpu = cpu
    return stats


def summary(stats) -> dict:
    return {
        "seconds": round(stats.elapsed, 1),
        "requests": len(stats.latencies),
        "throughput_rps": round(len(stats.latencies) / stats.elapsed, 1),
        "p50_ms": round(statistics.median(stats.latencies), 1) if stats.latencies else None,
        "p95_ms": round(pct(stats.latencies, 0.95), 1),
        "status_codes": dict(sorted(stats.codes.items())),
        "cpu_ms_per_request": stats.cpu.per_request_ms(len(stats.latencies)),
    }


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--capacity-seconds", type=float, default=30, help="the phase without pauses"
    )
    parser.add_argument(
        "--think",
        default="1,5",
        help="MIN,MAX seconds a simulated user pauses after each action (Locust's between)",
    )
    parser.add_argument("--threads", type=int, default=8, help="each server process's threads")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (one per core)"
    )
    parser.add_argument("--pg-admin-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    low, _sep, high = args.think.partition(",")
    think = (float(low), float(high or low))
    db_url = args.pg_admin_url.rsplit("/", 1)[0] + f"/{DB}"
    _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    _pg_admin(args.pg_admin_url, f'CREATE DATABASE "{DB}"')
    env = _env(db_url)
    server = None
    try:
        subprocess.run([BIN / "frontline", "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
        setup = json.loads(
            subprocess.run(
                [sys.executable, "-c", SETUP], env=env, check=True, cwd=ROOT, capture_output=True
            ).stdout
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen(
            [
                *(BIN / "frontline", "serve", "--port", str(port)),
                *("--threads", str(args.threads)),
                *(("--workers", str(args.workers)) if args.workers != 1 else ()),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/v1/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with CpuMeter(server.pid, db_url) as trivial_cpu:
            trivial_rps, trivial = baseline(base, args.users, max(5.0, args.seconds / 4))

        # Capacity: no pause between calls, as many calls as the machine can answer; its
        # throughput against the trivial view's is the ratio.
        capacity = run_mix(
            base, setup, args.users, args.capacity_seconds, (0.0, 0.0), server, db_url
        )
        # Users: the same people pausing between actions as people do; the latency they
        # meet is p50/p95.
        users = run_mix(base, setup, args.users, args.seconds, think, server, db_url)
        check = json.loads(
            subprocess.run(
                [sys.executable, "-c", CHECK], env=env, check=True, cwd=ROOT, capture_output=True
            ).stdout
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')

    created = capacity.created | users.created
    codes: dict[int, int] = {}
    for phase in (capacity, users):
        for code, n in phase.codes.items():
            codes[code] = codes.get(code, 0) + n
    lost = len(created - set(check["ids"]))
    five = sum(n for code, n in codes.items() if code >= 500)
    capacity_rps = len(capacity.latencies) / capacity.elapsed
    result = {
        "users": args.users,
        "server": f"{args.workers} process(es) x {args.threads} threads",
        "think_seconds": list(think),
        "baseline": {
            "throughput_rps": round(trivial_rps, 1),
            "p95_ms": round(pct(trivial.latencies, 0.95), 1),
            "cpu_ms_per_request": trivial_cpu.per_request_ms(len(trivial.latencies)),
        },
        "capacity": summary(capacity),
        "ratio_to_baseline": round(capacity_rps / trivial_rps, 2) if trivial_rps else None,
        "users_pausing": summary(users),
        "created": len(created),
        "rows": check["rows"],
        "lost": lost,
        "duplicates": check["duplicate_keys"],
        "double_assignments": check["double_dispatch"],
        "5xx": five,
    }
    print(json.dumps(result, indent=2))
    ok = lost == 0 and check["duplicate_keys"] == 0 and check["double_dispatch"] == 0 and five == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
