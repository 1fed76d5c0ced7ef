"""Workbook readers compared on the census benchmark sheet: openpyxl (read-only) and
python-calamine, reading every row of a 1,000,000-row .xlsx (issue 10).

    .venv/bin/python bench/readers.py --residents 1000000 [--work DIR]

Makes the CSV with bench/census.py's generator, converts it once to .xlsx (openpyxl
write-only, inline strings as openpyxl writes them), then reads it in a fresh process
per reader and reports wall seconds and peak RSS (ru_maxrss, Python itself ~10 MB).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_openpyxl(path: Path) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    n = sum(1 for _ in sheet.iter_rows(max_col=65, values_only=True))
    workbook.close()
    return n


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as fh:
        workbook = CalamineWorkbook.from_filelike(fh)
        sheet = workbook.get_sheet_by_index(0)
        n = sum(1 for _ in sheet.iter_rows())
    return n


def worker(reader: str, path: Path) -> None:
    start = time.perf_counter()
    rows = {"openpyxl": read_openpyxl, "calamine": read_calamine}[reader](path)
    print(json.dumps({"rows": rows, "seconds": time.perf_counter() - start, "rss": _maxrss_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/frontline-readers"))
    parser.add_argument("--worker", choices=("openpyxl", "calamine"))
    parser.add_argument("--sheet", type=Path)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.sheet)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    xlsx = args.work / f"census-{args.residents}.xlsx"
    if not xlsx.exists():
        from census import generate
        from openpyxl import Workbook

        sheet_csv = args.work / f"census-{args.residents}.csv"
        generate(sheet_csv, args.residents)
        workbook = Workbook(write_only=True)
        out = workbook.create_sheet("普查")
        with open(sheet_csv, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                out.append(row)
        workbook.save(xlsx)
    print(f"{xlsx}: {xlsx.stat().st_size / 1e6:.1f} MB")
    for reader in ("openpyxl", "calamine"):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", reader, "--sheet", str(xlsx)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures = json.loads(out)
        print(
            f"{reader}: {figures['rows']:,} rows in {figures['seconds']:.1f} s, "
            f"peak RSS {figures['rss']:.0f} MB"
        )


if __name__ == "__main__":
    main()
