"""Runtime speed: the entity REST API beside a bare Starlette JSON endpoint.

    .venv/bin/python benchmarks/runtime.py                              # about a minute
    .venv/bin/python benchmarks/runtime.py --requests 5000 --concurrency 8

What it measures, in one run and one server process (uvicorn, the settings
`appwright serve` uses, 127.0.0.1): requests/s, p50 and p99 latency and server
CPU per request for

- list:   GET  /_aw/api/entities/Note?limit=50, 10,000 records all owned by the
          signed-in user of an `owner` entity (so the owner filter applies);
- get:    GET  /_aw/api/entities/Note/{id}, ids drawn from the 10,000;
- create: POST /_aw/api/entities/Note;

each beside a bare Starlette endpoint that answers a JSON payload of the same
shape and size (50 records, or one). The goal: the API costs at most 3x the bare
endpoint, on p50 latency and on throughput ("ratio" = API p50 / bare p50 and
bare req/s / API req/s; both must be <= 3).

How: the server runs in a child process (this script with `--serve`) so the
client does not share its GIL; the client is asyncio with
`--concurrency` keep-alive connections (a raw asyncio HTTP/1.1 client: httpx
was the bottleneck, see `Connection`). Every row warms up first, then sends
`--requests` requests or stops at `--seconds`, whichever comes first, in four
slices that alternate with its bare twin so background load hits both. The
"srv CPU" column is the server process's CPU time (from /proc) divided by the
requests of that row: it does not depend on how fast the client is, which on a
two-core machine matters.

What it does not measure: several worker processes, uvloop or httptools (not
installed; uvicorn falls back to asyncio and h11 for the API and bare rows
alike), TLS, a real network, or disk latency beyond what SQLite's
`synchronous` setting (printed above the table) asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "notes"  # `Note`, access `owner`
ENTITY = "Note"
EMAIL, PASSWORD = "bench@example.com", "correct horse battery"
SEED_RECORDS = 10_000
LIST_LIMIT = 50
GOAL = 3.0  # the API may cost at most this many times the bare endpoint
ROUNDS = 4  # bare and API slices per row, alternating

console = Console(width=None if sys.stdout.isatty() else 150)


# -- 1. data that looks like what the API writes ------------------------------------------------
WORDS = ("call", "buy", "milk", "plan", "trip", "draft", "report", "fix", "bike", "garden", "book",
         "review", "notes", "meeting", "idea", "read", "paper", "budget", "email", "tax", "gift")


def note_body(rng: random.Random) -> dict:
    """A create body like a notes page sends: a short title, a paragraph, a flag."""
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60))) + "."
    return {"title": title, "body": body, "pinned": rng.random() < 0.1}


def stamp(dt: datetime) -> str:
    # storage.now()'s format
    return dt.isoformat(timespec="microseconds").replace("+00:00", "Z")


def api_shape(rid: str, owner: str, data: dict, at: str) -> dict:
    """A record as the API answers it (api.to_json's key order), for the bare endpoint."""
    return {"id": rid, **data, "owner": owner, "created_at": at, "updated_at": at}


def seed(bundle: Path) -> tuple[str, list[str]]:
    """Create the user and 10,000 records of theirs in one transaction. Values go through the
    runtime's own validator, ids and stamps have the runtime's formats, so rows equal ones the
    API would have written, created one millisecond apart."""
    from sqlalchemy import insert

    from appwright.runtime import auth
    from appwright.runtime.manifest import load_manifest
    from appwright.runtime.storage import AppStore, db_path, records
    from appwright.runtime.validate import check_write

    spec = load_manifest(bundle).entities[ENTITY]
    store = AppStore(db_path(bundle))
    user = store.create_user(EMAIL, auth.hash_password(PASSWORD))
    rng = random.Random(0)
    start = datetime.now(timezone.utc) - timedelta(days=1)
    rows = []
    for i in range(SEED_RECORDS):
        at = stamp(start + timedelta(milliseconds=i))
        data = check_write(ENTITY, spec, note_body(rng), partial=False)
        rows.append(dict(id=uuid.uuid4().hex, entity=ENTITY, owner=user.id, created_at=at, updated_at=at,
                         data=json.dumps(data)))
    with store.engine.begin() as conn:
        conn.execute(insert(records), rows)
    store.close()
    return user.id, [r["id"] for r in rows]


# -- 2. the server process: the real app plus bare endpoints, one uvicorn -----------------------
def bare_app(owner: str):
    """Plain Starlette, no middleware: the floor any JSON endpoint on this server pays."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    rng = random.Random(1)
    at = stamp(datetime.now(timezone.utc))
    items = [api_shape(uuid.uuid4().hex, owner, note_body(rng), at) for _ in range(LIST_LIMIT)]
    cursor = "WyItY3JlYXRlZF9hdCIsIjIwMjYtMTEtMjRUMTA6MDA6MDAuMDAwMDAwWiIsIjAxMjM0NTY3ODkiXQ"
    one = items[0]

    async def list_(request: Request):
        return JSONResponse({"items": items, "next": cursor})

    async def get(request: Request):
        return JSONResponse(one)

    async def create(request: Request):
        body = await request.json()
        return JSONResponse({**one, **body}, status_code=201)

    return Starlette(routes=[Route("/_bare/list", list_), Route("/_bare/get/{id}", get),
                             Route("/_bare/create", create, methods=["POST"])])


def serve(bundle: Path, port: int, owner: str) -> None:
    """Child process: `/_bare/*` goes to the bare app, everything else to create_app(bundle)."""
    import uvicorn

    from appwright.runtime.app import ServedApp, create_app

    served = ServedApp.open(bundle)
    api, bare = create_app(served), bare_app(owner)

    async def both(scope, receive, send):  # one dict lookup and a prefix test per request
        if scope["type"] == "http" and scope["path"].startswith("/_bare/"):
            return await bare(scope, receive, send)
        return await api(scope, receive, send)

    with served.store.engine.connect() as conn:
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
    print(json.dumps({"synchronous": names.get(sync, sync), "journal_mode": journal,
                      "session_cache_s": served.store.config.session_cache_s}), flush=True)
    # What `appwright serve` runs (cli.py), plus lifespan on, which is uvicorn's default anyway.
    uvicorn.run(both, host="127.0.0.1", port=port, log_level="warning")


# -- 3. the client -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    kind: str
    endpoint: str
    done: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # server CPU per request
    busy: float    # server CPU seconds / wall seconds
    client: float  # the same for the client (this process)

    @property
    def rps(self) -> float:
        return self.done / self.seconds


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Connection:
    """One keep-alive HTTP/1.1 connection with the least client work possible.

    httpx.AsyncClient saturated the client's core at about 900 requests/s while the server
    process sat 20-28% busy (docs/LOG.md, 2026-11-25), so the client, not the server, set the
    pace and hid most of the API's cost. This sends prebuilt request bytes and reads the
    answer by its content-length (Starlette always sends one; no chunked bodies here)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, host: str, port: int, headers: dict[str, str]) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        head = "".join(f"{k}: {v}\r\n" for k, v in {"host": f"{host}:{port}", **headers}.items())
        return cls(reader, writer, head.encode())

    async def request(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        extra = b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body) if body else b""
        self.writer.write(b"%s %s HTTP/1.1\r\n%s%s\r\n%s" % (
            method.encode(), path.encode(), self.head, extra, body or b""))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def load(conns: list[Connection], make, expect: int, n: int, cap_s: float
               ) -> tuple[list[float], int, float]:
    """Send up to `n` requests (`make(i)` -> (method, path, body bytes)) over the connections,
    one in flight on each, stopping at `cap_s` seconds. Returns latencies (s), errors, wall s."""
    lat: list[float] = []
    errors = 0
    counter = iter(range(n))
    t0 = time.perf_counter()
    deadline = t0 + cap_s

    async def worker(conn: Connection):
        nonlocal errors
        for i in counter:
            if time.perf_counter() > deadline:
                return
            method, path, body = make(i)
            t = time.perf_counter()
            status, _ = await conn.request(method, path, body)
            lat.append(time.perf_counter() - t)
            errors += status != expect

    await asyncio.gather(*(worker(c) for c in conns))
    return lat, errors, time.perf_counter() - t0


def pct(sorted_s: list[float], q: float) -> float:
    return sorted_s[min(len(sorted_s) - 1, int(q * len(sorted_s)))] * 1000


async def measure(port: int, pid: int, token: str, ids: list[str], n: int, concurrency: int,
                  cap_s: float) -> list[Row]:
    rng = random.Random(2)
    bodies = [json.dumps(note_body(rng)).encode() for _ in range(512)]
    api = f"/_aw/api/entities/{ENTITY}"
    cases = [  # kind, endpoint, status, make(i)
        ("list", "bare", 200, lambda i: ("GET", "/_bare/list", None)),
        ("list", "API", 200, lambda i: ("GET", f"{api}?limit={LIST_LIMIT}", None)),
        ("get", "bare", 200, lambda i: ("GET", f"/_bare/get/{ids[i % len(ids)]}", None)),
        ("get", "API", 200, lambda i: ("GET", f"{api}/{ids[(i * 7919) % len(ids)]}", None)),
        ("create", "bare", 201, lambda i: ("POST", "/_bare/create", bodies[i % len(bodies)])),
        ("create", "API", 201, lambda i: ("POST", api, bodies[i % len(bodies)])),
    ]
    # The same headers a page's fetch sends on every row, bare ones included.
    headers = {"x-aw": "1", "cookie": f"aw_session={token}", "accept": "*/*"}
    conns = [await Connection.open("127.0.0.1", port, headers) for _ in range(concurrency)]
    try:
        # The API and the bare endpoint answer the same shape: check once, outside the timing.
        listed = json.loads((await conns[0].request("GET", f"{api}?limit={LIST_LIMIT}", None))[1])
        bare = json.loads((await conns[0].request("GET", "/_bare/list", None))[1])
        assert len(listed["items"]) == LIST_LIMIT == len(bare["items"]) and listed["next"], listed
        assert all(r["owner"] == listed["items"][0]["owner"] for r in listed["items"])
        assert list(listed["items"][0]) == list(bare["items"][0]), (listed["items"][0], bare["items"][0])
        sizes = [len(json.dumps(x, separators=(",", ":"))) for x in (listed, bare)]
        console.print(f"list payload: API {sizes[0]:,} bytes, bare {sizes[1]:,} bytes")
        # Bare and API take turns in ROUNDS slices, so a change in background load on a shared
        # machine hits both sides of a ratio alike instead of one whole row.
        rows = []
        for kind in dict.fromkeys(c[0] for c in cases):
            pair = [c for c in cases if c[0] == kind]
            for _, _, status, make in pair:
                await load(conns, make, status, max(50, n // 10), cap_s / 4)  # warm-up
            got = {endpoint: ([], 0, 0.0, 0.0, 0.0) for _, endpoint, _, _ in pair}
            for _ in range(ROUNDS):
                for _, endpoint, status, make in pair:
                    cpu0, own0 = cpu_seconds(pid), time.process_time()
                    lat, errors, wall = await load(conns, make, status, -(-n // ROUNDS), cap_s / ROUNDS)
                    cpu, own = cpu_seconds(pid) - cpu0, time.process_time() - own0
                    old = got[endpoint]
                    got[endpoint] = (old[0] + lat, old[1] + errors, old[2] + wall, old[3] + cpu, old[4] + own)
            for _, endpoint, _, _ in pair:
                lat, errors, wall, cpu, own = got[endpoint]
                lat.sort()
                rows.append(Row(kind, endpoint, len(lat), errors, wall, pct(lat, 0.50), pct(lat, 0.99),
                                cpu / len(lat) * 1e6, cpu / wall, own / wall))
    finally:
        for c in conns:
            c.close()
    return rows


# -- 4. report -----------------------------------------------------------------------------------
def table(rows: list[Row]) -> Table:
    t = Table(title=f"entity API vs bare Starlette JSON endpoint (goal: API <= {GOAL:g}x bare)")
    for col in ("row", "endpoint", "req/s", "p50 ms", "p99 ms", "srv CPU us/req", "srv busy", "client busy",
                "errors", "ratio p50 / rps / CPU", "verdict"):
        t.add_column(col, justify="left" if col in ("row", "endpoint", "verdict") else "right")
    for kind in dict.fromkeys(r.kind for r in rows):
        bare, api = [next(r for r in rows if r.kind == kind and r.endpoint == e) for e in ("bare", "API")]
        ratios = (api.p50_ms / bare.p50_ms, bare.rps / api.rps, api.cpu_us / bare.cpu_us)
        ok = ratios[0] <= GOAL and ratios[1] <= GOAL and api.errors == bare.errors == 0
        for r in (bare, api):
            is_api = r is api
            t.add_row(kind if not is_api else "", r.endpoint, f"{r.rps:,.0f}", f"{r.p50_ms:.2f}",
                      f"{r.p99_ms:.2f}", f"{r.cpu_us:,.0f}", f"{r.busy:.0%}", f"{r.client:.0%}", str(r.errors),
                      " / ".join(f"{x:.2f}x" for x in ratios) if is_api else "",
                      ("[green]meets[/]" if ok else "[red]misses[/]") if is_api else "",
                      end_section=is_api)
    return t


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000, help="timed requests per row (after a warm-up)")
    p.add_argument("--concurrency", type=int, default=4, help="keep-alive connections the client keeps busy")
    p.add_argument("--seconds", type=float, default=12.0, help="time cap per row")
    p.add_argument("--serve", nargs=3, metavar=("BUNDLE", "PORT", "OWNER"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        return serve(Path(args.serve[0]), int(args.serve[1]), args.serve[2])
    if args.requests < 1 or args.concurrency < 1 or args.seconds <= 0:
        p.error("--requests, --concurrency and --seconds must be positive")

    with tempfile.TemporaryDirectory(prefix="aw-bench-") as tmp:
        bundle = Path(tmp) / "notes"
        shutil.copytree(BUNDLE, bundle, ignore=shutil.ignore_patterns(".aw"))
        t = time.perf_counter()
        owner, ids = seed(bundle)
        seed_s = time.perf_counter() - t

        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(bundle), str(port), owner],
                                  stdout=subprocess.PIPE, text=True)
        try:
            store_info = json.loads(server.stdout.readline() or "{}")
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 20
            while True:
                try:
                    r = httpx.post(f"{base}/_aw/api/auth/login", headers={"X-AW": "1"},
                                   json={"email": EMAIL, "password": PASSWORD})
                    break
                except httpx.TransportError:
                    if time.time() > deadline or server.poll() is not None:
                        sys.exit("the benchmark server did not start")
                    time.sleep(0.05)
            assert r.status_code == 200, r.text
            token = r.cookies["aw_session"]

            load1 = os.getloadavg()[0]
            console.print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}, "
                          f"load average {load1:.2f} before the run")
            if load1 > 0.5:
                console.print("[yellow]warning:[/] other work is running; the two processes here want one core "
                              "each, so absolute numbers will be low (ratios suffer less: bare and API alternate)")
            console.print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
                          f"uvicorn (asyncio + h11, 1 process, log_level=warning), 127.0.0.1")
            console.print(f"store: synchronous={store_info.get('synchronous')}, "
                          f"journal_mode={store_info.get('journal_mode')}, "
                          f"session lookups cached for {store_info.get('session_cache_s')} s")
            console.print(f"data: {SEED_RECORDS:,} {ENTITY} records (access owner, all one user's), "
                          f"seeded in {seed_s:.1f} s")
            console.print(f"load: {args.requests} requests per row (cap {args.seconds:g} s) after a warm-up, "
                          f"{args.concurrency} keep-alive connections from a raw asyncio client in this process")
            rows = asyncio.run(measure(port, server.pid, token, ids, args.requests, args.concurrency,
                                       args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)
    console.print(table(rows))
    console.print("ratio: API p50 / bare p50, bare req/s / API req/s, API CPU / bare CPU per request; "
                  "verdict needs the first two <= 3 and no errors.")


if __name__ == "__main__":
    main()
