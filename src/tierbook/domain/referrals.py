"""Referral influence (SPEC §3.5): the value of the customers a customer brought in,
through the referral graph. Pure (networkx, no I/O).

A customer's referral value is Σ over the customers reachable from it by referral edges
(shortest path, up to ``depth`` generations) of ``decay ** (generation − 1)`` × their
profit, losses counted as zero: what a referrer brought in, directly and through the
customers it brought in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import networkx as nx


@dataclass(frozen=True)
class Influence:
    value: float  # weighted profit of the customers brought in
    direct: int  # customers it referred itself
    reached: int  # customers reached within the depth


def referral_influence(
    edges: Iterable[tuple[str, str]],
    profit: Mapping[str, float],
    *,
    decay: float,
    depth: int,
) -> dict[str, Influence]:
    """Influence of every referrer; customers who referred nobody are absent."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from(edges)
    out: dict[str, Influence] = {}
    for node in graph.nodes:
        direct = int(graph.out_degree(node))
        if direct == 0:
            continue
        reach = nx.single_source_shortest_path_length(graph, node, cutoff=depth)
        value = 0.0
        reached = 0
        for other, gen in reach.items():
            if gen == 0:
                continue
            reached += 1
            value += decay ** (gen - 1) * max(float(profit.get(other, 0.0)), 0.0)
        out[node] = Influence(value=value, direct=direct, reached=reached)
    return out
