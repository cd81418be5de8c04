"""The rehearsal report for people."""

from __future__ import annotations

from .run import Report


def to_text(report: Report) -> str:
    lines = [f"tfgen rehearse: {'OK' if report.ok else 'FAILED'} in {report.seconds:.1f} s"]
    scratch = f"kept in {report.scratch}" if report.kept else "removed (--keep DIR keeps it)"
    lines.append(f"  local S3 {report.endpoint or '(not started)'}; scratch tree {scratch}")
    lines.append("")
    lines.append("Steps:")
    for step in report.steps:
        mark = "ok  " if step.ok else "FAIL"
        lines.append(f"  {mark} {step.name:<19} {step.seconds:6.1f} s  {step.detail}")
    if report.units:
        lines.append("")
        lines.append("Units in the order their resources were created (tfgen graph wave; destroy position):")
        for unit in report.units:
            applied = f"{unit.applied_at:>3}" if unit.applied_at is not None else "  -"
            if unit.kept:
                end = "kept (prevent_destroy)" if unit.protected else "kept (a protected unit needs it)"
            elif unit.destroyed_at is not None:
                end = f"destroyed {unit.destroyed_at}"
            else:
                end = "-"
            lines.append(f"  {applied}. wave {unit.wave}  {unit.address:<40} {end}")
    if report.flows:
        lines.append("")
        lines.append("Dependency outputs that flowed from state into inputs:")
        for flow in report.flows:
            arrow = f"-> {flow.target}.{flow.input}" if flow.ok else f"-> {flow.target}: NOT FOUND"
            lines.append(f"  {flow.source}.{flow.output} {arrow}")
    if report.state_objects:
        lines.append("")
        lines.append(f"State objects ({len(report.state_objects)}):")
        lines += [f"  {name}" for name in report.state_objects]
    if report.notes:
        lines.append("")
        lines.append("Notes:")
        lines += [f"  {note}" for note in report.notes]
    if report.failures:
        lines.append("")
        lines.append(f"Failures ({len(report.failures)}):")
        for failure in report.failures:
            where = f" {failure.unit}" if failure.unit else ""
            lines.append(f"  {failure.step}{where}: {failure.message}")
    return "\n".join(lines) + "\n"
