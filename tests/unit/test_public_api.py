"""The public surface: ``__all__`` is pinned and sorted, documented, and ``import hazardflow`` stays light."""

from __future__ import annotations

import inspect
import subprocess
import sys

import hazardflow

#: Widening the public API is a visible, reviewed change to this list.
PUBLIC = [
    "SYSTEM",
    "Actor",
    "AuditEvent",
    "AuditReport",
    "CalendarDataMissing",
    "CalendarRule",
    "Case",
    "CaseNotFoundError",
    "ChineseWorkingCalendar",
    "CommandContext",
    "CommandRefused",
    "ConcurrentUpdateError",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "Deadline",
    "DeadlineSpec",
    "DefinitionError",
    "Delay",
    "Engine",
    "EnsembleTaskFailed",
    "Field",
    "GuardRejected",
    "GuardResult",
    "HazardflowError",
    "InvalidInput",
    "JurisdictionTree",
    "LifecycleDefinitionError",
    "LifecycleSpec",
    "NotAuthorized",
    "PersistenceError",
    "PolicyDefinitionError",
    "Roll",
    "RunDueReport",
    "SchemaVersionError",
    "SequentialIds",
    "SimulatedClock",
    "State",
    "StorageFull",
    "SystemClock",
    "Timer",
    "Transition",
    "TransitionNotAllowed",
    "Unit",
    "UnknownJurisdictionError",
    "WebhookNotFoundError",
    "Workflow",
    "replay",
]

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "apscheduler", "typer", "rich", "matplotlib", "psycopg", "openpyxl")


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_pinned() -> None:
    assert hazardflow.__all__ == PUBLIC


def test_all_is_sorted_and_complete() -> None:
    assert hazardflow.__all__ == sorted(hazardflow.__all__, key=_isort_key)
    assert len(set(hazardflow.__all__)) == len(hazardflow.__all__)
    for name in hazardflow.__all__:
        assert hasattr(hazardflow, name), name


def test_public_names_are_documented() -> None:
    missing = []
    for name in hazardflow.__all__:
        obj = getattr(hazardflow, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
                if callable(fn) and not (fn.__doc__ or "").strip():
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_every_error_has_a_stable_code() -> None:
    errors = [getattr(hazardflow, n) for n in hazardflow.__all__]
    errors = [e for e in errors if inspect.isclass(e) and issubclass(e, hazardflow.HazardflowError)]
    codes = {e: e.code for e in errors}
    assert all(code.startswith("hazardflow.") for code in codes.values())
    concrete = [e for e in errors if e not in (hazardflow.CommandRefused, hazardflow.DefinitionError)]
    assert len({codes[e] for e in concrete}) == len(concrete), "two errors share a code"


def test_import_stays_light() -> None:
    code = (
        "import sys, hazardflow, hazardflow.testing, hazardflow.policies, hazardflow.workflows; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"import hazardflow pulled in {out.stdout.strip()}"


def test_import_has_no_side_effects_on_logging() -> None:
    code = (
        "import logging, structlog; before = structlog.is_configured(); import hazardflow; "
        "e = hazardflow.Engine(); print(before, structlog.is_configured(), logging.getLogger().handlers)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False []"


def test_the_typing_example_runs() -> None:
    import runpy
    from pathlib import Path

    module = runpy.run_path(str(Path(__file__).parents[1] / "typing" / "api_usage.py"))
    shown = module["main"]()
    assert shown[0].startswith("hazardflow.transition_not_allowed: registered → allowed ")
    assert shown[1].startswith("hazardflow.not_authorized: e-zhang lacks ")
    assert shown[-1] == "closed after 4 events; 0 timer(s) fired; 4 commits seen"
