"""A process that streams commands at a database until it is killed (driven by ``test_sql_crash.py``).

Usage: ``python crash_child.py URL RUN SEED``. It walks general hazards through their lifecycle (open with an
idempotency key, order a deadline, submit, reject or approve), alternating single commands with small bulk
batches, and after every commit prints one line to stdout (flushed) saying what is now durable:

    ok <key> <case_id> <seq>          one command committed
    begin <n> <key> <key> ...         a batch of n commands is about to be committed
    batch <n>                         ... and it is committed

The parent kills it with SIGKILL at a random point and then checks the database against these lines.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from hazardflow import Actor, Engine, SimulatedClock
from hazardflow.persistence.sql import SqlStore

TOWNSHIP = "500240204"
UNIT = "500240204-BU-0001"
INSPECTOR = Actor("e-zhang", "张检查", {"inspector"}, UNIT, TOWNSHIP)
MANAGER = Actor("e-li", "李安全", {"safety_manager"}, UNIT, TOWNSHIP)
OFFICER = Actor("t-liu", "刘安办", {"township_officer"}, "三星乡安办", TOWNSHIP)
REGISTER = {
    "grade": "general",
    "source": "supervisory_inspection",
    "nature": "unsafe_condition",
    "industry": "industry_trade",
    "business_unit": UNIT,
    "location": "仓库",
    "description": "消防通道堆放杂物",
}
ORDER = {"deadline": "2024-03-15", "measures": "清理通道", "responsible": "李安全"}
SUBMIT = {"evidence": ["整改后照片.jpg"], "rectified_by": MANAGER.id}
STEPS: list[tuple[str, Actor, dict[str, Any]]] = [
    ("set_deadline", OFFICER, ORDER),
    ("submit_review", MANAGER, SUBMIT),
    ("reject", OFFICER, {"reason": "通道仍有杂物"}),
    ("submit_review", MANAGER, SUBMIT),
    ("approve", OFFICER, {"opinion": "现场复核通过"}),
]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    url, run, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    engine = Engine(store=SqlStore(url), clock=SimulatedClock("2024-03-04T09:00:00+08:00"), outbox=True)
    # Each live case and how far along its lifecycle it is.
    live: list[tuple[str, int]] = []
    n = 0

    def next_command() -> tuple[str, Any]:
        nonlocal n
        n += 1
        key = f"{run}-{n}"
        if len(live) < 4 or rng.random() < 0.2:
            return key, lambda: engine.open_case(
                "hazard", actor=INSPECTOR, jurisdiction=TOWNSHIP, idempotency_key=key, **REGISTER
            )
        i = rng.randrange(len(live))
        cid, step = live[i]
        trigger, actor, payload = STEPS[step]
        return key, lambda: engine.fire(cid, trigger, actor=actor, payload=payload, idempotency_key=key)

    def advance(case_id: str) -> None:
        for i, (cid, step) in enumerate(live):
            if cid == case_id:
                if step + 1 >= len(STEPS):
                    live.pop(i)
                else:
                    live[i] = (cid, step + 1)
                return
        live.append((case_id, 0))

    while True:
        if rng.random() < 0.25:
            # A small bulk batch: all of it is durable, or none of it.
            size = rng.randint(2, 6)
            done: list[tuple[str, str, int]] = []
            with engine.batch():
                for _ in range(size):
                    key, command = next_command()
                    case = command()
                    done.append((key, case.id, case.rev))
                    advance(case.id)
                say(f"begin {size} " + " ".join(k for k, _, _ in done))
            say(f"batch {size}")
            for key, cid, seq in done:
                say(f"ok {key} {cid} {seq}")
        else:
            key, command = next_command()
            case = command()
            advance(case.id)
            say(f"ok {key} {case.id} {case.rev}")


if __name__ == "__main__":
    main()
