"""BPMN 2.0 export of a lifecycle table, with diagram interchange (DI) so a modeler opens it laid out.

Mapping: the opening row → a start event and its flow; each state → a user task (a terminal state also
flows to an end event); each row that moves a case → a sequence flow named by its trigger; each row that
keeps the state (挂牌督办, 责令停产, reminders, sanction rungs …) → a loop from the state's split gateway back
to its join gateway, so it is drawn and not lost. A state with several ways out gets an exclusive split
gateway after its task, one with several ways in a join gateway before it (no implicit splits or fake joins).
Guards become ``conditionExpression`` (language ``hazardflow``), roles and scope go in ``documentation``;
every element carries ``hf:nameZh`` and ``hf:nameEn`` beside its ``name`` (in the chosen language).

The export is documentation, not an engine deployment: ``isExecutable="false"`` unless asked otherwise.
"""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape, quoteattr

from ._glossary import en, zh
from ._lifecycle import LifecycleSpec, Transition

__all__ = ["render_bpmn"]

_NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "hf": "https://hazardflow.readthedocs.io/bpmn",
}

_TASK_W, _TASK_H = 130, 80
_GW = 50
_EV = 36
_COL = 380
_ROW = 220
_X0 = 160
_Y0 = 120


def _label(kind: str, id: str, lang: str) -> str:
    return zh(kind, id) if lang == "zh" else en(kind, id)


def _names(kind: str, id: str, lang: str) -> str:
    label, zh_, en_ = quoteattr(_label(kind, id, lang)), quoteattr(zh(kind, id)), quoteattr(en(kind, id))
    return f"name={label} hf:nameZh={zh_} hf:nameEn={en_}"


def render_bpmn(spec: LifecycleSpec, lang: str = "zh", *, executable: bool = False) -> str:
    """The lifecycle as a BPMN 2.0 XML document (semantic model and DI), labels in ``lang`` (``zh``/``en``)."""
    states = {s.id: s for s in spec.states}
    opening = [t for t in spec.transitions if not t.sources]
    # (source, dest, trigger, transition) with duplicates (same source, dest, trigger) merged
    moves: list[tuple[str, str, str, Transition]] = []
    keeps: list[tuple[str, str, Transition]] = []
    seen: set[tuple[str, str, str]] = set()
    for t in spec.transitions:
        for src in t.sources:
            dest = t.dest or src
            key = (src, dest, t.trigger)
            if key in seen:
                continue
            seen.add(key)
            if t.dest is None:
                keeps.append((src, t.trigger, t))
            else:
                moves.append((src, dest, t.trigger, t))

    out_n: dict[str, int] = dict.fromkeys(states, 0)
    in_n: dict[str, int] = dict.fromkeys(states, 0)
    for src, dest, _trig, _t in moves:
        out_n[src] += 1
        in_n[dest] += 1
    for t in opening:
        if t.dest is not None:
            in_n[t.dest] += 1
    for s in spec.states:
        if s.terminal:
            out_n[s.id] += 1  # the flow to its end event
    loops: dict[str, int] = {}
    for src, _trig, _t in keeps:
        loops[src] = loops.get(src, 0) + 1
    split = {s for s in states if out_n[s] + loops.get(s, 0) > 1}
    join = {s for s in states if in_n[s] + loops.get(s, 0) > 1}

    # Layout: columns by breadth-first depth from the initial state, rows in order of discovery.
    depth: dict[str, int] = {spec.initial: 0}
    queue = deque([spec.initial])
    while queue:
        cur = queue.popleft()
        for src, dest, _trig, _t in moves:
            if src == cur and dest not in depth:
                depth[dest] = depth[cur] + 1
                queue.append(dest)
    for s in spec.states:
        depth.setdefault(s.id, max(depth.values(), default=0) + 1)
    rows: dict[int, int] = {}
    pos: dict[str, tuple[int, int]] = {}
    for s in spec.states:  # table order within a column
        col = depth[s.id]
        row = rows.get(col, 0)
        rows[col] = row + 1
        pos[s.id] = (_X0 + col * _COL, _Y0 + row * _ROW)

    def task_box(s: str) -> tuple[int, int, int, int]:
        x, y = pos[s]
        return (x + 70, y, _TASK_W, _TASK_H)

    def join_box(s: str) -> tuple[int, int, int, int]:
        x, y = pos[s]
        return (x, y + (_TASK_H - _GW) // 2, _GW, _GW)

    def split_box(s: str) -> tuple[int, int, int, int]:
        x, y = pos[s]
        return (x + 70 + _TASK_W + 40, y + (_TASK_H - _GW) // 2, _GW, _GW)

    def end_box(s: str) -> tuple[int, int, int, int]:
        tx, ty, tw, th = split_box(s) if s in split else task_box(s)
        return (tx + tw + 50, ty + th // 2 - _EV // 2 - (80 if s in split else 0), _EV, _EV)

    def entry(s: str) -> str:
        return f"join_{s}" if s in join else f"task_{s}"

    def exit_(s: str) -> str:
        return f"split_{s}" if s in split else f"task_{s}"

    boxes: dict[str, tuple[int, int, int, int]] = {}
    proc: list[str] = []
    pid = f"hazardflow_{spec.id}"
    start_box = (_X0 - 120, pos[spec.initial][1] + _TASK_H // 2 - _EV // 2, _EV, _EV)
    boxes["start"] = start_box
    flows: list[
        tuple[str, str, str, str, list[tuple[int, int]], str]
    ] = []  # id, src, dst, name attrs, waypoints, extra

    def center_right(b: tuple[int, int, int, int]) -> tuple[int, int]:
        return (b[0] + b[2], b[1] + b[3] // 2)

    def center_left(b: tuple[int, int, int, int]) -> tuple[int, int]:
        return (b[0], b[1] + b[3] // 2)

    def route(a: str, b: str, bend: int = 0) -> list[tuple[int, int]]:
        sx, sy = center_right(boxes[a])
        tx, ty = center_left(boxes[b])
        if tx > sx:
            mid = (sx + tx) // 2
            return [(sx, sy), (mid, sy), (mid, ty), (tx, ty)] if sy != ty else [(sx, sy), (tx, ty)]
        # a flow going back to the left: out of the bottom, along a lane under both, into the bottom
        sb = (boxes[a][0] + boxes[a][2] // 2, boxes[a][1] + boxes[a][3])
        tb = (boxes[b][0] + boxes[b][2] // 2, boxes[b][1] + boxes[b][3])
        lane = max(sb[1], tb[1]) + 30 + bend
        return [sb, (sb[0], lane), (tb[0], lane), tb]

    for s in spec.states:
        boxes[f"task_{s.id}"] = task_box(s.id)
        if s.id in join:
            boxes[f"join_{s.id}"] = join_box(s.id)
        if s.id in split:
            boxes[f"split_{s.id}"] = split_box(s.id)
        if s.terminal:
            boxes[f"end_{s.id}"] = end_box(s.id)

    n = 0

    def flow_id() -> str:
        nonlocal n
        n += 1
        return f"flow_{n}"

    for t in opening:
        if t.dest is None:
            continue
        fid = flow_id()
        flows.append((fid, "start", entry(t.dest), _names("trigger", t.trigger, lang), [], _doc_for(t, cond=False)))
    for s in spec.states:
        if s.id in join:
            flows.append((flow_id(), f"join_{s.id}", f"task_{s.id}", "", [], ""))
        if s.id in split:
            flows.append((flow_id(), f"task_{s.id}", f"split_{s.id}", "", [], ""))
        if s.terminal:
            done = '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="hazardflow">' + (
                "trigger is None</bpmn:conditionExpression>" if s.id in split else ""
            )
            flows.append((flow_id(), exit_(s.id), f"end_{s.id}", "", [], done if s.id in split else ""))
    bends: dict[str, int] = {}
    for src, dest, trig, t in moves:
        flows.append(
            (flow_id(), exit_(src), entry(dest), _names("trigger", trig, lang), [], _doc_for(t, cond=src in split))
        )
    for src, trig, t in keeps:
        k = bends.get(src, 0)
        bends[src] = k + 1
        flows.append(
            (flow_id(), f"split_{src}", f"join_{src}", _names("trigger", trig, lang), [(k, 0)], _doc_for(t, cond=True))
        )

    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for fid, a, b, _nm, _w, _x in flows:
        outgoing.setdefault(a, []).append(fid)
        incoming.setdefault(b, []).append(fid)

    def io(node: str) -> str:
        parts = [f"<bpmn:incoming>{f}</bpmn:incoming>" for f in incoming.get(node, [])]
        parts += [f"<bpmn:outgoing>{f}</bpmn:outgoing>" for f in outgoing.get(node, [])]
        return "".join(parts)

    start_label = "发现" if lang == "zh" else "discovered"
    proc.append(f'    <bpmn:startEvent id="start" name={quoteattr(start_label)}>{io("start")}</bpmn:startEvent>')
    for s in spec.states:
        doc = f"{zh('state', s.id)} / {en('state', s.id)}"
        if s.deadline:
            doc += f"; 期限 deadline: {zh('deadline', s.deadline)} / {en('deadline', s.deadline)}"
        proc.append(
            f'    <bpmn:userTask id="task_{s.id}" {_names("state", s.id, lang)} hf:state="{s.id}">'
            f"<bpmn:documentation>{escape(doc)}</bpmn:documentation>{io(f'task_{s.id}')}</bpmn:userTask>"
        )
        if s.id in join:
            proc.append(f'    <bpmn:exclusiveGateway id="join_{s.id}">{io(f"join_{s.id}")}</bpmn:exclusiveGateway>')
        if s.id in split:
            proc.append(f'    <bpmn:exclusiveGateway id="split_{s.id}">{io(f"split_{s.id}")}</bpmn:exclusiveGateway>')
        if s.terminal:
            proc.append(
                f'    <bpmn:endEvent id="end_{s.id}" {_names("state", s.id, lang)}>{io(f"end_{s.id}")}</bpmn:endEvent>'
            )
    for fid, a, b, nm, _w, extra in flows:
        attrs_ = f" {nm}" if nm else ""
        proc.append(
            f'    <bpmn:sequenceFlow id="{fid}" sourceRef="{a}" targetRef="{b}"{attrs_}>{extra}</bpmn:sequenceFlow>'
        )

    shapes: list[str] = []
    for node, (bx, by, bw, bh) in boxes.items():
        marker = ' isMarkerVisible="true"' if node.startswith(("join_", "split_")) else ""
        shapes.append(
            f'      <bpmndi:BPMNShape id="{node}_di" bpmnElement="{node}"{marker}>'
            f'<dc:Bounds x="{bx}" y="{by}" width="{bw}" height="{bh}" /></bpmndi:BPMNShape>'
        )
    for fid, a, b, _nm, w, _x in flows:
        if w and a.startswith("split_") and b.startswith("join_"):
            k = w[0][0]
            sb, jb = boxes[a], boxes[b]
            lane = sb[1] + sb[3] + 40 + 22 * k
            pts = [
                (sb[0] + sb[2] // 2, sb[1] + sb[3]),
                (sb[0] + sb[2] // 2, lane),
                (jb[0] + jb[2] // 2, lane),
                (jb[0] + jb[2] // 2, jb[1] + jb[3]),
            ]
        else:
            pts = route(a, b, bend=10 * (int(fid.split("_")[1]) % 5))
        wps = "".join(f'<di:waypoint x="{x}" y="{y}" />' for x, y in pts)
        shapes.append(f'      <bpmndi:BPMNEdge id="{fid}_di" bpmnElement="{fid}">{wps}</bpmndi:BPMNEdge>')

    title = f"{zh('workflow', spec.id)} / {en('workflow', spec.id)}"
    ns = " ".join(f'xmlns:{k}="{v}"' for k, v in _NS.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions {ns} id="definitions_{spec.id}" targetNamespace="{_NS["hf"]}/{spec.id}" '
        f'exporter="hazardflow" exporterVersion="1">\n'
        f'  <bpmn:process id="{pid}" name={quoteattr(title)} isExecutable="{"true" if executable else "false"}">\n'
        + "\n".join(proc)
        + "\n  </bpmn:process>\n"
        f'  <bpmndi:BPMNDiagram id="diagram_{spec.id}">\n'
        f'    <bpmndi:BPMNPlane id="plane_{spec.id}" bpmnElement="{pid}">\n'
        + "\n".join(shapes)
        + "\n    </bpmndi:BPMNPlane>\n  </bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    )


def _doc_for(t: Transition, *, cond: bool) -> str:
    trig = t.trigger
    roles = ", ".join(f"{r} {zh('role', r)}" for r in t.roles)
    scope = t.scope
    guards = t.guards
    text = f"{zh('trigger', trig)} / {en('trigger', trig)}; roles 角色: {roles}; scope 范围: {scope}"
    if t.dest is None:
        text += "; keeps the state 状态不变"
    doc = f"<bpmn:documentation>{escape(text)}</bpmn:documentation>"
    if cond:
        # Which command takes this way, and the named guards that must pass (a Python-style expression).
        expr = " and ".join([f'trigger == "{trig}"', *guards])
        doc += (
            '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="hazardflow">'
            f"{escape(expr)}</bpmn:conditionExpression>"
        )
    elif guards:
        doc = doc.replace(
            "</bpmn:documentation>", escape(f"; guards 规则: {', '.join(guards)}") + "</bpmn:documentation>"
        )
    return doc
