"""The discrete-event driver: it plays the units and officials of a scenario against the real engine.

Nothing here models a rule. Every step is a command through :meth:`Engine.open_case` and
:meth:`Engine.fire` on a :class:`SimulatedClock`, and every deadline, reminder and ladder rung is a timer the
engine armed and :meth:`Engine.run_due` fires. The driver only decides *when* people act and *what* they
do: it keeps a heap of pending actions and jumps from one instant to the next — the next action, the next
armed timer (``Store.next_due``), or the next local midnight — without ever sleeping.

Time is cut into windows that never cross a timer: each window's actions run in one ``Engine.batch()``
(one commit per window on a SQL store), then the timers due at the window's end fire. An action that arms
a deadline inside the running window (an hours-long limit) shortens the window, so timers always fire on
time and a run on SQLite writes the same audit log as one in memory.

Random draws are per case and per purpose (:func:`._dist.uniform`), keyed by the arrival, never by the
order of events: the same seed under two policies meets the same hazards, found in the same units at the
same instants, by people who are as fast or slow as before (common random numbers).

The driver is a package; its public names are importable from it (``hazardflow.simulation._runner``) and
from :mod:`hazardflow.simulation`:

* ``_simulation``: :class:`Simulation` (composed of the parts below: its inputs and state),
  :func:`build_engine` and :func:`simulate`, the public run entry point.
* ``_scheduler``: the event loop: the heap of pending actions, windows between timers, working hours,
  the per-case random draws, and :class:`Progress` reported after each window.
* ``_bookkeeping``: the engine's events (audit digest, KPI collection, refusals) and the figures of a
  finished run.
* ``_actors``: the simulated people (units and government offices), the driver's memory of each open case,
  and the arrival streams.
* ``_commands``: firing a command as the first actor the rules accept, retries, who decides.
* ``_arrivals``: new hazards and tip-offs (arrival streams), the backlog, and open cases adopted from a
  forecast's database.
* ``_hazards``: how people act on a hazard case, state by state (registering, ordering, reporting,
  listing, rectifying, extensions, reviews, delisting) and 回头看.
* ``_tipoffs_escalations``: tip-off verification, and escalation to the upper tier's pool.
* ``_filings``: reporting obligations (报送任务) opened month by month and fulfilled.
"""

from ._scheduler import Progress
from ._simulation import Simulation, build_engine, simulate

__all__ = ["Progress", "Simulation", "build_engine", "simulate"]
