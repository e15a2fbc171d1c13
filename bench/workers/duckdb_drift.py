"""Plain DuckDB (its Python API, no Ibis) computing what mlpilot's drift computes.

``warm``: ONE SELECT over the current file: for each numeric column the count of values below
each stored edge (SUM(CAST(x < e AS INT)); the edges include mlpilot's -inf / +inf sentinels and
point-mass edges) and the non-missing count; for each categorical column the count of each
stored category; and COUNT(*). Edges and categories come from the stored
mlpilot profile (``profile_{size}.json``).

``cold``: the same from scratch: (1) the reference's deciles, moments and missing counts, (2)
its category counts, (3) its counts on the decile edges, then (4) the warm query on the current
file. Each query is timed on its own (``queries``).
"""

from __future__ import annotations

import json
import time

from _common import DATA, arguments, finish

args = arguments(("--size", {"default": "1m"}), ("--mode", {"default": "warm"}))
reference = DATA / f"drift_{args.size}_reference.parquet"
current = DATA / f"drift_{args.size}_current.parquet"

t0 = time.perf_counter()
import duckdb  # noqa: E402

t1 = time.perf_counter()


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def histogram_select(path: str, profile: dict) -> str:
    """COUNT(*), then per column its non-missing count and its counts below each edge (or equal
    to each category). Float columns are read with NaN as NULL first: DuckDB folds ``x < e`` to
    TRUE from Parquet min/max statistics, which leave NaN out, and would count NaN below e."""
    numeric = [n for n, p in profile.items() if p["kind"] == "numeric"]
    cleaned = ", ".join(
        [f"CASE WHEN isnan({q(n)}) THEN NULL ELSE {q(n)} END AS {q(n)}" for n in numeric]
        + [q(n) for n, p in profile.items() if p["kind"] != "numeric"]
    )
    terms = ["COUNT(*) AS _rows"]
    for i, (name, p) in enumerate(profile.items()):
        terms.append(f"COUNT({q(name)}) AS n{i}")
        if p["kind"] == "numeric":
            terms += [f"SUM(CAST({q(name)} < '{float(e)!r}'::DOUBLE AS INT)) AS c{i}_{k}"
                      for k, e in enumerate(p["edges"])]  # fmt: skip
        else:
            terms += [f"SUM(CAST({q(name)} = {lit(c)} AS INT)) AS c{i}_{k}"
                      for k, c in enumerate(p["categories"])]  # fmt: skip
    return f"SELECT {', '.join(terms)} FROM (SELECT {cleaned} FROM read_parquet({lit(path)}))"


def bins(row: tuple, columns: list[str], profile: dict) -> dict:
    """Each column's missing count, then its bins (as mlpilot's test compares them)."""
    values = dict(zip(columns, row, strict=True))
    out = {}
    for i, (name, p) in enumerate(profile.items()):
        count = values[f"n{i}"]
        missing = values["_rows"] - count
        width = len(p["edges"]) if p["kind"] == "numeric" else len(p["categories"])
        below = [int(values[f"c{i}_{k}"]) for k in range(width)]
        if p["kind"] == "numeric":
            bounds = [0, *below, count]
            out[name] = [missing, *(bounds[k + 1] - bounds[k] for k in range(len(bounds) - 1))]
        else:
            out[name] = [missing, *below, count - sum(below)]
    return out


con = duckdb.connect()
timings: dict[str, float] = {}
started = time.perf_counter()
if args.mode == "warm":
    profile = json.loads((DATA / f"profile_{args.size}.json").read_text())
else:
    schema = con.sql(f"DESCRIBE SELECT * FROM read_parquet({lit(str(reference))})").fetchall()
    numeric = [n for n, t, *_ in schema if t in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER")]
    categorical = [n for n, t, *_ in schema if t == "VARCHAR"]
    # (1) deciles, moments, missing counts: non-finite values become NULL in a projection.
    finite = ", ".join(f"CASE WHEN isfinite({q(n)}) THEN {q(n)} END AS {q(n)}" for n in numeric)
    terms = ["COUNT(*) AS _rows"]
    for j, n in enumerate(numeric):
        terms += [
            f"quantile_cont({q(n)}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) AS q{j}",
            f"avg({q(n)}) AS mean{j}", f"stddev_pop({q(n)}) AS std{j}",
            f"COUNT({q(n)}) AS n{j}",
        ]  # fmt: skip
    t = time.perf_counter()
    cur = con.execute(f"SELECT {', '.join(terms)} FROM (SELECT {finite} "
                      f"FROM read_parquet({lit(str(reference))}))")  # fmt: skip
    first = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    timings["reference_deciles"] = time.perf_counter() - t
    # (2) category counts: DuckDB's histogram() aggregate, one map per column.
    t = time.perf_counter()
    maps = con.execute(
        "SELECT "
        + ", ".join(f"histogram({q(n)}) AS h{k}" for k, n in enumerate(categorical))
        + f" FROM read_parquet({lit(str(reference))})"
    ).fetchone()
    timings["reference_categories"] = time.perf_counter() - t
    profile = {}
    for j, n in enumerate(numeric):
        edges = sorted({float(e) for e in first[f"q{j}"] or []})
        profile[n] = {"kind": "numeric", "edges": edges}
    for k, n in enumerate(categorical):
        counted = sorted(dict(maps[k]).items(), key=lambda kv: (-kv[1], kv[0]))
        profile[n] = {"kind": "categorical", "categories": [c for c, _ in counted]}
    # (3) the reference on its own edges.
    t = time.perf_counter()
    numeric_only = {n: p for n, p in profile.items() if p["kind"] == "numeric"}
    con.execute(histogram_select(str(reference), numeric_only)).fetchone()
    timings["reference_bins"] = time.perf_counter() - t
# (4) the current data on the reference's bins: one SELECT.
t = time.perf_counter()
res = con.execute(histogram_select(str(current), profile))
row = res.fetchone()
columns = [d[0] for d in res.description]
timings["current_histograms"] = time.perf_counter() - t
ended = time.perf_counter()
result = {
    "tool": "duckdb", "mode": args.mode, "size": args.size, "duckdb": duckdb.__version__,
    "import_s": t1 - t0, "load_s": 0.0, "compute_s": ended - started, "seconds": ended - started,
    "queries": timings, "bins": bins(row, columns, profile),
}  # fmt: skip
finish(args.out, result)
