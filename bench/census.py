"""Census import and stats benchmark (not a timed test): see bench/README.md.

    .venv/bin/python bench/census.py                      # 100,000 residents, SQLite and PostgreSQL
    .venv/bin/python bench/census.py --residents 1000000
    .venv/bin/python bench/census.py --backends sqlite    # no PostgreSQL at hand

It generates a synthetic city census sheet (CSV, the real template), then for each backend:
  raw     the same regions, households, residents and care-group rows inserted into the
          same (migrated, indexed) tables with the driver's fastest bulk path: sqlite3
          executemany, psycopg COPY. Rows are prepared in memory first: only inserts are timed.
  import  frontline.people.census.import_census on the sheet, timed, with the process's
          peak RSS (each phase runs in its own process, so the peak is the import's own).
  stats   census_stats(city) for the whole city, the median of several runs.
The ratio import/raw in rows per second is the figure to watch: the machine is shared and
noisy, so absolute numbers move between runs while ratios mostly do not.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from frontline.people.labels import CARE_GROUP_BY_LABEL as CARE_CODES  # noqa: E402
from frontline.people.labels import CARE_GROUP_LABELS  # noqa: E402
from frontline.people.labels import CENSUS_COLUMNS as HEADER  # noqa: E402

CARE_LABELS = list(CARE_GROUP_LABELS.values())

# Lu'an's seven county-level areas with their GB/T 2260 codes; more are invented if a
# very large city needs them.
DISTRICTS = [
    ("金安区", "341502"),
    ("裕安区", "341503"),
    ("叶集区", "341504"),
    ("霍邱县", "341522"),
    ("舒城县", "341523"),
    ("金寨县", "341524"),
    ("霍山县", "341525"),
]
PLACE_CHARS = "东西南北新长平安和兴丰永清河城山桥湖林石塘店集岗庙圩铺冲畈埠楼庄"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹"
    "薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰建华国庆"
    "玉梅红志文斌海燕鹏飞宇浩然子涵欣怡梓轩思雨晨阳佳琪俊杰婷婷"
)
WORK_UNITS = [
    "六安市人民医院",
    "六安一中",
    "皖西学院",
    "安徽江淮汽车六安分公司",
    "六安市供电公司",
    "城南镇政府",
    "个体经营",
    "务农",
    "退休",
    "",
    "",
    "",
]
# Household sizes 1..6 averaging ~3.2 people.
HOUSEHOLD_SIZES = [1, 2, 3, 4, 5, 6]
HOUSEHOLD_WEIGHTS = [0.12, 0.22, 0.24, 0.22, 0.13, 0.07]

TODAY = dt.date(2022, 4, 10)


# --- the sheet --------------------------------------------------------------------------


def _place(rng: random.Random, suffix: str, taken: set[str]) -> str:
    while True:
        name = rng.choice(PLACE_CHARS) + rng.choice(PLACE_CHARS) + suffix
        if name not in taken:
            taken.add(name)
            return name


def _regions(rng: random.Random, households: int):
    """Yield (district, area code, township, community, compound, building) per building.

    24 households to a building (2 units x 6 floors x 2 rooms), 4-20 buildings to a
    compound, 2-5 compounds to a community, 6-14 communities to a township and 8-20
    townships to a district: a city of 1,000,000 has ~13,000 buildings and ~900 compounds.
    """
    buildings_needed = -(-households // 24)
    made = 0
    d = 0
    while made < buildings_needed:
        if d < len(DISTRICTS):
            district, area = DISTRICTS[d]
        else:
            district, area = f"新{d}区", DISTRICTS[d % len(DISTRICTS)][1]
        d += 1
        townships: set[str] = set()
        for _t in range(rng.randint(8, 20)):
            township = _place(rng, rng.choice(("镇", "乡", "街道")), townships)
            communities: set[str] = set()
            for _c in range(rng.randint(6, 14)):
                community = _place(rng, rng.choice(("社区", "村")), communities)
                compounds: set[str] = set()
                for _p in range(rng.randint(2, 5)):
                    compound = _place(rng, "小区", compounds)
                    for b in range(1, rng.randint(4, 20) + 1):
                        yield district, area, township, community, compound, f"{b}栋"
                        made += 1
                        if made >= buildings_needed:
                            return


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def generate(path: Path, residents: int, seed: int = 2022) -> dict:
    """Write a census sheet of exactly `residents` rows; returns what it wrote."""
    from frontline.people.idnumber import FEMALE, MALE, make_id_number

    rng = random.Random(seed)
    # (area, birth, sex) → how many numbers issued: sequences never repeat, so every ID is
    # unique without remembering a million of them.
    issued: dict[tuple[str, dt.date, str], int] = defaultdict(int)
    households = 0
    written = 0
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for district, area, township, community, compound, building in _regions(
            rng, int(residents / 3.2) + 1
        ):
            for unit in (1, 2):
                for floor in range(1, 7):
                    for door in (1, 2):
                        if written >= residents:
                            return {"rows": written, "households": households}
                        households += 1
                        size = rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0]
                        home_phone = _phone(rng)
                        for member in range(size):
                            if written >= residents:
                                break
                            sex = rng.choice((MALE, FEMALE))
                            age = rng.randint(25, 80) if member == 0 else rng.randint(0, 95)
                            birth = TODAY - dt.timedelta(days=age * 365 + rng.randrange(365))
                            key = (area, birth, sex)
                            seq = 2 * issued[key] + (1 if sex == MALE else 0)
                            issued[key] += 1
                            care = []
                            if age >= 70 and size == 1:
                                care.append("独居老人")
                            elif age <= 3:
                                care.append("婴幼儿")
                            if rng.random() < 0.03:
                                care.append(rng.choice(CARE_LABELS[3:]))
                            out.writerow(
                                [
                                    district,
                                    township,
                                    community,
                                    compound,
                                    building,
                                    str(unit),
                                    f"{floor}0{door}",
                                    _name(rng),
                                    "男" if sex == MALE else "女",
                                    make_id_number(area, birth, seq, sex),
                                    home_phone if member == 0 else _phone(rng),
                                    rng.choice(WORK_UNITS) if 18 <= age < 65 else "",
                                    "是" if rng.random() < 0.08 else "否",
                                    rng.choice(("是", "否", "")) if age >= 12 else "否",
                                    "、".join(care),
                                    "是" if rng.random() < 0.05 else "否",
                                ]
                            )
                            written += 1
    return {"rows": written, "households": households}


# --- the workers (one process per phase and backend) -----------------------------------


def _maxrss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _django(migrate: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "frontline.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


def _analyze() -> None:
    """The state a database reaches on its own soon after a large import.

    PostgreSQL's autovacuum vacuums and analyzes insert-heavy tables (13+), which also sets
    the visibility map that index-only counts rely on; SQLite gets planner statistics.
    """
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def worker_import(sheet: Path, stats_runs: int) -> dict:
    _django()
    from frontline.people.census import import_census
    from frontline.people.stats import census_stats
    from frontline.territory.services import city

    rss_before = _maxrss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    result = import_census(sheet, filename=sheet.name)
    seconds = time.perf_counter() - t0
    # CPU seconds of this process (SQLite's work included, PostgreSQL's server not): on a
    # shared machine the wall clock moves by tens of percent between runs, this much less.
    cpu = time.process_time() - c0
    if not result.ok:
        raise SystemExit("import failed: " + "; ".join(str(e) for e in result.errors[:10]))
    peak = _maxrss_mb()
    _analyze()
    root = city()
    timings = []
    stats = {}
    for _ in range(stats_runs):
        t = time.perf_counter()
        stats = census_stats(root)
        timings.append(time.perf_counter() - t)
    return {
        "rows": result.rows,
        "households_created": result.households_created,
        "residents_created": result.residents_created,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rss_before_mb": rss_before,
        "peak_rss_mb": peak,
        "stats_median_ms": statistics.median(timings) * 1000,
        "stats_min_ms": min(timings) * 1000,
        "stats_first_ms": timings[0] * 1000,
        "stats": stats,
    }


def _raw_rows(sheet: Path):
    """The rows the import writes, with ids assigned here so that no insert waits on another.

    Returns {table: (columns, rows)} in insertion order.
    """
    from frontline.territory.services import kind_for

    ancestors = ("district_id", "township_id", "community_id", "compound_id", "building_id")
    region_cols = ("id", "name", "level", "kind", "path", "parent_id", *ancestors)
    household_cols = (
        "id",
        "unit",
        "room",
        "phone",
        "members",
        "members_away",
        "online_members",
        "note",
        *ancestors,
    )
    resident_cols = (
        "id",
        "household_id",
        "name",
        "sex",
        "id_number",
        "birth_date",
        "phone",
        "phone_tail",
        "work_unit",
        "is_party_member",
        "can_order_online",
        "away",
        "health_notes",
        *ancestors,
    )
    care_cols = ("id", "resident_id", "group", *ancestors)

    regions: list[tuple] = [(1, "六安市", 0, "市", "", None, None, None, None, None, None)]
    region_ids: dict[tuple[str, ...], tuple] = {(): (1, (None,) * 5)}
    households: dict[tuple, list] = {}
    residents: list[tuple] = []
    care: list[tuple] = []

    def region(names: tuple[str, ...]) -> tuple:
        if names in region_ids:
            return region_ids[names]
        parent_id, parent_anc = region(names[:-1])
        rid = len(regions) + 1
        level = len(names)
        anc = list(parent_anc)
        anc[level - 1] = rid
        regions.append(
            (rid, names[-1], level, kind_for(names[-1], level), "/".join(names), parent_id, *anc)
        )
        region_ids[names] = (rid, tuple(anc))
        return region_ids[names]

    with sheet.open(newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        next(rows)
        for cells in rows:
            bid, anc = region(tuple(cells[:5]))
            key = (bid, cells[5], cells[6])
            hh = households.get(key)
            if hh is None:
                hh = households[key] = [
                    len(households) + 1,
                    cells[5],
                    cells[6],
                    cells[10],
                    0,
                    0,
                    0,
                    "",
                    *anc,
                ]
            away = cells[15] == "是"
            online = {"是": True, "否": False}.get(cells[13])
            hh[4] += 1
            hh[5] += away
            hh[6] += online is True
            number = cells[9]
            rid = len(residents) + 1
            residents.append(
                (
                    rid,
                    hh[0],
                    cells[7],
                    "M" if cells[8] == "男" else "F",
                    number,
                    dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    cells[10],
                    cells[10][-4:],
                    cells[11],
                    cells[12] == "是",
                    online,
                    away,
                    "",
                    *anc,
                )
            )
            for label in filter(None, cells[14].split("、")):
                care.append((len(care) + 1, rid, CARE_CODES[label], *anc))
    return {
        "territory_region": (region_cols, regions),
        "people_household": (household_cols, [tuple(h) for h in households.values()]),
        "people_resident": (resident_cols, residents),
        "people_residentcaregroup": (care_cols, care),
    }


def worker_raw(sheet: Path) -> dict:
    _django()
    from django.conf import settings
    from django.db import connection

    tables = _raw_rows(sheet)
    connection.close()
    db = settings.DATABASES["default"]
    t0 = time.perf_counter()
    if db["ENGINE"].endswith("sqlite3"):
        import sqlite3

        conn = sqlite3.connect(db["NAME"], isolation_level=None)
        conn.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            "PRAGMA cache_size=-64000;"
        )
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table, (cols, rows) in tables.items():
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        conn.execute("COMMIT")
        seconds = time.perf_counter() - t0
        conn.close()
    else:
        import psycopg

        with psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname=db["NAME"],
        ) as conn:
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for table, (cols, rows) in tables.items():
                    names = ", ".join(f'"{c}"' for c in cols)
                    with cur.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                        for row in rows:
                            copy.write_row(row)
            seconds = time.perf_counter() - t0
    return {
        "rows": len(tables["people_resident"][1]),
        "households": len(tables["people_household"][1]),
        "seconds": seconds,
    }


# --- the driver -------------------------------------------------------------------------


def _run_worker(phase: str, sheet: Path, env: dict, stats_runs: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", phase, "--sheet", str(sheet)]
    cmd += ["--stats-runs", str(stats_runs)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"{phase} worker failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pg_admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _pg_url(admin_url: str, dbname: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + dbname


def bench_backend(backend: str, sheet: Path, work: Path, args) -> dict:
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base_env["PYTHONPATH"] = str(ROOT)
    # A 1,000,000-row CSV is ~120 MB, over the default upload limit of 50 MB.
    base_env.setdefault("FRONTLINE_UPLOAD_MAX_MB", "1024")
    results = {}
    for phase in args.phases.split(","):
        env = dict(base_env, FRONTLINE_DATA_DIR=str(work / f"{backend}-{phase}"))
        dbname = f"{args.pg_database}_{phase}"
        if backend == "postgres":
            _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{dbname}"')
            _pg_admin(args.pg_admin_url, f'CREATE DATABASE "{dbname}"')
            env["DATABASE_URL"] = _pg_url(args.pg_admin_url, dbname)
        try:
            results[phase] = _run_worker(phase, sheet, env, args.stats_runs)
        finally:
            if backend == "postgres" and not args.keep:
                _pg_admin(args.pg_admin_url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return results


def report(backend: str, rows: int, res: dict) -> None:
    print(f"\n== {backend}: {rows:,} residents")
    if "raw" in res:
        raw = res["raw"]
        print(f"  raw bulk insert  {raw['seconds']:8.1f} s  {rows / raw['seconds']:10,.0f} rows/s")
    if "import" not in res:
        return
    imp = res["import"]
    print(f"  import_census    {imp['seconds']:8.1f} s  {rows / imp['seconds']:10,.0f} rows/s")
    print(f"  import CPU       {imp['cpu_seconds']:8.1f} s  (this process)")
    if "raw" in res:
        ratio = res["raw"]["seconds"] / imp["seconds"]
        print(f"  ratio import/raw {ratio:8.2f}    (target >= 0.25)")
    print(
        f"  import peak RSS  {imp['peak_rss_mb']:8.0f} MB "
        f"(process before import: {imp['rss_before_mb']:.0f} MB; target < 500 MB at 1,000,000)"
    )
    print(
        f"  city stats       {imp['stats_median_ms']:8.1f} ms median "
        f"(min {imp['stats_min_ms']:.1f}, first {imp['stats_first_ms']:.1f}; target < 200 ms)"
    )
    s = imp["stats"]
    print(
        f"  stats say        {s['residents']:,} residents, {s['households']:,} households, "
        f"{s['buildings']:,} buildings, {s['compounds']:,} compounds"
    )
    if s["residents"] != rows:
        raise SystemExit(f"stats count {s['residents']} residents, the sheet has {rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a database to connect to for CREATE/DROP DATABASE",
    )
    parser.add_argument("--pg-database", default="frontline_bench")
    parser.add_argument("--phases", default="raw,import", help="raw, import or both")
    parser.add_argument("--stats-runs", type=int, default=9)
    parser.add_argument("--sheet", type=Path, help="reuse this sheet instead of generating one")
    parser.add_argument("--keep", action="store_true", help="keep the databases and files")
    parser.add_argument("--worker", choices=("raw", "import"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "raw":
        print(json.dumps(worker_raw(args.sheet)))
        return
    if args.worker == "import":
        print(json.dumps(worker_import(args.sheet, args.stats_runs)))
        return

    work = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
    sheet = args.sheet
    if sheet is None:
        sheet = work / f"census-{args.residents}.csv"
        t0 = time.perf_counter()
        made = generate(sheet, args.residents)
        print(
            f"generated {sheet} ({made['rows']:,} residents, {made['households']:,} households, "
            f"{sheet.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s"
        )
    rows = sum(1 for _ in sheet.open(encoding="utf-8-sig")) - 1
    try:
        for backend in args.backends.split(","):
            report(backend, rows, bench_backend(backend, sheet, work, args))
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
