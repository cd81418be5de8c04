"""The unit dependency graph: apply order (waves) and cycles."""

from __future__ import annotations

from .model import Project, Unit

Key = tuple[str, str, str]


def edges(project: Project) -> dict[Key, list[Key]]:
    """unit key -> keys of the units it depends on (placed, resolved)."""
    return {key: [w.target.key for w in wires] for key, wires in project.wiring.items()}


def find_cycle(project: Project) -> list[Unit] | None:
    """One dependency cycle as a list of units (first repeated at the end), or None."""
    graph = edges(project)
    state: dict[Key, int] = {}
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[Key, int]] = [(start, 0)]
        trail: list[Key] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = 1
                trail.append(node)
            targets = graph.get(node, [])
            if index < len(targets):
                stack.append((node, index + 1))
                nxt = targets[index]
                if state.get(nxt) == 1:
                    cycle = [*trail[trail.index(nxt) :], nxt]
                    return [u for k in cycle if (u := project.unit(k)) is not None]
                if not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                trail.pop()
    return None


def waves(project: Project) -> list[list[Unit]]:
    """Units grouped into apply waves: every unit's dependencies are in earlier waves."""
    graph = edges(project)
    level: dict[Key, int] = {}

    def depth(key: Key) -> int:
        if key in level:
            return level[key]
        # iterative to survive long chains
        stack = [key]
        while stack:
            top = stack[-1]
            pending = [d for d in graph.get(top, []) if d not in level]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            level[top] = 1 + max((level[d] for d in graph.get(top, [])), default=-1)
        return level[key]

    grouped: dict[int, list[Unit]] = {}
    for unit in project.units:
        grouped.setdefault(depth(unit.key), []).append(unit)
    return [grouped[i] for i in sorted(grouped)]
