"""The order in which dependent parameters are evaluated, and the cycles that forbid one."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from lcasolve.errors import ParameterCycleError

__all__ = ["dependency_order"]


def dependency_order(
    depends: Mapping[Hashable, frozenset[Hashable]],
    where: str = "",
    spell: Mapping[Hashable, str] | None = None,
) -> list[Hashable]:
    """Order names so that each comes after the names it depends on.

    Parameters
    ----------
    depends : Mapping
        Name (any hashable) -> the names its formula uses (names outside the mapping are
        ignored: they are given values).
    where : str, optional
        The scope, for the error message.
    spell : Mapping, optional
        Name -> the spelling to show in messages.

    Returns
    -------
    list
        Every name of ``depends``, dependencies first (ties in the order of their ``repr``).

    Raises
    ------
    ParameterCycleError
        Listing one cycle in dependency order, e.g. ``a -> b -> a``.
    """
    spell = spell or {}
    state: dict[Hashable, int] = {}  # 1 on the path, 2 done
    order: list[Hashable] = []
    for start in sorted(depends, key=repr):
        if state.get(start):
            continue
        path = [start]
        iters = [iter(sorted(depends[start] & depends.keys(), key=repr))]
        state[start] = 1
        while path:
            nxt = next(iters[-1], None)
            if nxt is None:
                done = path.pop()
                iters.pop()
                state[done] = 2
                order.append(done)
            elif state.get(nxt) == 1:
                cycle = path[path.index(nxt) :]
                raise ParameterCycleError([spell.get(c, c) for c in cycle], where)
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(sorted(depends[nxt] & depends.keys(), key=repr)))
    return order
