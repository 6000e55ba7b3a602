"""BPMN 2.0 export: valid against the OMG XSD (xmlschema), parsed by SpiffWorkflow, laid out, complete."""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from typer.testing import CliRunner

from hazardflow._bpmn import render_bpmn
from hazardflow._lifecycle import render_mermaid, render_table
from hazardflow.cli import app
from hazardflow.workflows import default_workflows

XSD = Path(__file__).parent.parent / "data" / "bpmn20" / "BPMN20.xsd"
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "hf": "https://hazardflow.readthedocs.io/bpmn",
}
WORKFLOWS = {wf.id: wf for wf in default_workflows()}


@functools.cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


@pytest.mark.parametrize("wid", sorted(WORKFLOWS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_export_is_valid_bpmn(wid: str, lang: str) -> None:
    xml = render_bpmn(WORKFLOWS[wid].spec, lang)
    errors = list(schema().iter_errors(xml))
    assert errors == []


def test_the_schema_check_is_real() -> None:
    """A dangling reference (the classic broken export) fails the same check."""
    xml = render_bpmn(WORKFLOWS["hazard"].spec)
    broken = xml.replace('targetRef="task_closed"', 'targetRef="task_nowhere"', 1)
    assert broken != xml
    assert not schema().is_valid(broken)


@pytest.mark.parametrize("wid", sorted(WORKFLOWS))
def test_spiffworkflow_parses_the_executable_variant(wid: str, tmp_path: Path) -> None:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator

    path = tmp_path / f"{wid}.bpmn"
    path.write_text(render_bpmn(WORKFLOWS[wid].spec, "en", executable=True), encoding="utf-8")
    parser = BpmnParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(path))
    spec = parser.get_spec(f"hazardflow_{wid}")
    names = {t.bpmn_name for t in spec.task_specs.values() if getattr(t, "bpmn_name", None)}
    assert {s.id for s in WORKFLOWS[wid].spec.states} <= {
        t.bpmn_id.removeprefix("task_") for t in spec.task_specs.values() if getattr(t, "bpmn_id", None)
    }
    assert names


@pytest.mark.parametrize("wid", sorted(WORKFLOWS))
def test_every_row_is_a_flow_and_every_node_is_laid_out(wid: str) -> None:
    spec = WORKFLOWS[wid].spec
    root = ET.fromstring(render_bpmn(spec, "zh"))
    proc = root.find("bpmn:process", NS)
    assert proc is not None
    assert proc.get("isExecutable") == "false"
    nodes = {el.get("id"): el for el in proc if el.get("id")}

    def owner_state(node: str) -> str:
        return node.split("_", 1)[1]

    flows = set()
    for f in proc.findall("bpmn:sequenceFlow", NS):
        trig = f.get(f"{{{NS['hf']}}}nameEn")
        if trig is None:
            continue
        src, dst = f.get("sourceRef", ""), f.get("targetRef", "")
        trigger = next(t.trigger for t in spec.transitions if f.get("name") == _zh_trigger(t.trigger))
        flows.add((None if src == "start" else owner_state(src), owner_state(dst), trigger))
    expected = set()
    for t in spec.transitions:
        if not t.sources:
            expected.add((None, t.dest, t.trigger))
        for s in t.sources:
            expected.add((s, t.dest or s, t.trigger))
    assert flows == expected
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane is not None
    laid = {el.get("bpmnElement") for el in plane}
    assert laid == set(nodes)
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None
        assert float(bounds.get("width", "0")) > 0


def _zh_trigger(trigger: str) -> str:
    from hazardflow._glossary import zh

    return zh("trigger", trigger)


def test_listing_for_supervision_is_drawn_everywhere() -> None:
    spec = WORKFLOWS["hazard"].spec
    assert "rectifying --> rectifying: 挂牌督办" in render_mermaid(spec, "zh")
    assert "挂牌督办" not in render_mermaid(spec, "zh", include_internal=False)
    assert "挂牌督办" in render_table(spec, "zh")
    root = ET.fromstring(render_bpmn(spec, "zh"))
    listed = [f for f in root.iter(f"{{{NS['bpmn']}}}sequenceFlow") if f.get("name") == "挂牌督办"]
    assert {f.get("sourceRef") for f in listed} == {
        "split_reporting",
        "split_rectifying",
        "split_extension_requested",
        "split_under_review",
    }
    assert all(f.get(f"{{{NS['hf']}}}nameEn") == "list for supervision" for f in listed)


def test_names_are_bilingual() -> None:
    root = ET.fromstring(render_bpmn(WORKFLOWS["hazard"].spec, "en"))
    task = root.find(".//bpmn:userTask[@id='task_rectifying']", NS)
    assert task is not None
    assert task.get("name") == "rectifying"
    assert task.get(f"{{{NS['hf']}}}nameZh") == "整改中"


def test_cli_renders_bpmn() -> None:
    result = CliRunner().invoke(app, ["lifecycle", "show", "tipoff", "--format", "bpmn", "--lang", "en"])
    assert result.exit_code == 0
    assert result.output == render_bpmn(WORKFLOWS["tipoff"].spec, "en")
    assert schema().is_valid(result.output)


@pytest.mark.parametrize("wid", sorted(WORKFLOWS))
def test_no_two_shapes_overlap(wid: str) -> None:
    root = ET.fromstring(render_bpmn(WORKFLOWS[wid].spec))
    boxes = []
    for shape in root.iter(f"{{{NS['bpmndi']}}}BPMNShape"):
        b = shape.find("dc:Bounds", NS)
        assert b is not None
        x, y, w, h = (float(b.get(k, "0")) for k in ("x", "y", "width", "height"))
        boxes.append((shape.get("bpmnElement"), x, y, w, h))
    for i, (na, xa, ya, wa, ha) in enumerate(boxes):
        for nb, xb, yb, wb, hb in boxes[i + 1 :]:
            assert not (xa < xb + wb and xb < xa + wa and ya < yb + hb and yb < ya + ha), (na, nb)
