"""Killing the server during a burst of writes loses no acknowledged write.

The real CLI (`appwright serve BUNDLE --port P`) serves a copy of the notes
example (access `owner`); several client threads create notes as fast as the
server answers; after some hundreds of 201s, with requests still in flight, the
server gets SIGKILL (no shutdown handler runs). Then the database is opened
directly: every acknowledged record must be there with the exact content the
API answered, nothing may be there that no client sent, and SQLite's
`PRAGMA integrity_check` must say ok. Three rounds, each restarting the server
on the same data, so recovery from a killed WAL is exercised too.

What this does not cover: power loss or a kernel crash (under the default
`synchronous=NORMAL` the last commits may roll back then; see storage.py).
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from appwright.runtime.storage import AppStore, db_path

CLI = Path(sys.executable).parent / "appwright"
PASSWORD = "correct horse battery"
THREADS = 6
ROUNDS = 3
API = "/_aw/api/entities/Note"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Ack:
    sent: dict   # the create body
    answer: dict  # the 201 body: the record as the API acknowledged it


def start_server(bundle: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([str(CLI), "serve", str(bundle), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{url}/_aw/api/app", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"appwright serve did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)


def burst(url: str, cookies: httpx.Cookies, round_no: int, kill_after: int, proc: subprocess.Popen
          ) -> tuple[list[Ack], dict[str, dict], int]:
    """Create notes from THREADS threads until the server dies; SIGKILL it after `kill_after`
    acks while at least one request is in flight. Returns acks, every body sent (by title)
    and how many requests were in flight at the kill."""
    acks: list[Ack] = []
    sent: dict[str, dict] = {}
    refused: list[str] = []  # answers other than 201, which would fail the test
    lock = threading.Lock()
    in_flight = 0
    stop = threading.Event()

    def client(t: int) -> None:
        nonlocal in_flight
        rng = random.Random(round_no * 100 + t)
        with httpx.Client(base_url=url, headers={"X-AW": "1"}, cookies=cookies, timeout=10) as c:
            for n in range(100_000):  # bounded; the kill (or `stop`) ends it long before
                if stop.is_set():
                    return
                # Unique titles name the request; bodies vary in length, with non-ASCII text.
                body = {"title": f"r{round_no}-t{t}-n{n}",
                        "body": f"{n} é✓ " + "x" * rng.randint(0, 3000),
                        "pinned": rng.random() < 0.5}
                with lock:
                    sent[body["title"]] = body
                    in_flight += 1
                try:
                    r = c.post(API, json=body)
                except httpx.TransportError:
                    return  # the server is gone; this request may or may not have committed
                finally:
                    with lock:
                        in_flight -= 1
                if r.status_code != 201:
                    refused.append(f"{r.status_code} {r.text}")
                    return
                with lock:
                    acks.append(Ack(body, r.json()))

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(THREADS)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 15
    try:
        while True:
            with lock:
                if len(acks) >= kill_after and in_flight > 0:
                    proc.send_signal(signal.SIGKILL)  # under the lock: no request completes meanwhile
                    flying = in_flight
                    break
            if time.monotonic() > deadline or not any(th.is_alive() for th in threads):
                raise AssertionError(f"only {len(acks)} acks before the deadline (wanted {kill_after})")
            time.sleep(0.002)
    finally:
        stop.set()
        proc.wait(timeout=10)
        for th in threads:
            th.join(timeout=15)
    assert not any(th.is_alive() for th in threads)
    assert not refused, refused[:3]
    return acks, sent, flying


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sigkill_during_write_burst_loses_no_acknowledged_write(example):
    bundle = example("notes")
    all_acks: list[Ack] = []
    all_sent: dict[str, dict] = {}
    user_id = None
    for round_no in range(ROUNDS):
        proc, url = start_server(bundle)
        try:
            with httpx.Client(base_url=url, headers={"X-AW": "1"}) as c:
                creds = {"email": "ada@example.com", "password": PASSWORD}
                r = c.post("/_aw/api/auth/signup" if round_no == 0 else "/_aw/api/auth/login", json=creds)
                assert r.status_code in (200, 201), r.text
                user_id = r.json()["user"]["id"]
                cookies = c.cookies
                # What earlier rounds acknowledged is served after the restart.
                if all_acks:
                    r = c.get(f"{API}/{all_acks[-1].answer['id']}")
                    assert r.status_code == 200 and r.json() == all_acks[-1].answer
            acks, sent, flying = burst(url, cookies, round_no, kill_after=300 + 50 * round_no, proc=proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert flying > 0
        all_acks += acks
        all_sent.update(sent)

    # Straight to the database, as a fresh process would find it after the last kill.
    store = AppStore(db_path(bundle))
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        stored = {}
        cursor = None
        for _ in range(len(all_sent) // 200 + 2):  # bounded paging through everything stored
            page = store.list_records("Note", filters=[], owner=False, sort="created_at", limit=200,
                                      cursor=cursor)
            stored.update({rec.id: rec for rec in page.items})
            cursor = page.next
            if cursor is None:
                break
        assert cursor is None
    finally:
        store.close()

    for ack in all_acks:
        rec = stored.get(ack.answer["id"])
        assert rec is not None, f"acknowledged record lost: {ack.answer['title']}"
        assert rec.data == ack.sent, ack.answer["title"]
        assert {"id": rec.id, **rec.data, "owner": rec.owner, "created_at": rec.created_at,
                "updated_at": rec.updated_at} == ack.answer
        assert rec.owner == user_id
    # Anything stored beyond the acks is a request that was in flight, stored whole or not at all.
    acked_ids = {a.answer["id"] for a in all_acks}
    for rec in stored.values():
        if rec.id not in acked_ids:
            assert rec.data == all_sent[rec.data["title"]]
    assert len(stored) - len(acked_ids) <= ROUNDS * THREADS
    print(f"\ndurability: {len(all_acks)} acknowledged creates over {ROUNDS} SIGKILLs, all stored; "
          f"{len(stored) - len(acked_ids)} in-flight creates also stored whole")
