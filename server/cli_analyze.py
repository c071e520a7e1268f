"""``borderkg analyze ...``: the relationship analyses from the command line.

Each subcommand opens the configured store (building the seed into an empty one, as
``serve`` does), projects it with the shared options (``--graph``, ``--predicate``,
``--class``, ``--include``, ``--collapse-observations``) and prints one analysis as a
table or as the same JSON the HTTP API returns. Analyses have the caps and the time limit
of the HTTP API (``graph.analysis.bounded``; ``--analysis-timeout``): a refused or
stopped analysis is one line on stderr and exit status 1.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from graph.settings import Settings

from .cli_options import STORE_SETTINGS, echo_json, open_configured_store, with_settings

FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                      show_default=True, help="Output format.")
#: a count of things to show: zero or fewer would show nothing (or, sliced, all but one)
COUNT = click.IntRange(min=1)


def absolute_iris(ctx: click.Context, param: click.Parameter,
                  values: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a predicate or class that is not an absolute IRI: the projection compares
    IRIs as strings, so ``memberOf`` or a prefixed name would match nothing and the
    analysis would quietly run on an empty graph."""
    from pyoxigraph import NamedNode

    for value in values:
        try:
            NamedNode(value)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r} is not an absolute IRI ({exc}); write it "
                                     "in full, such as http://www.w3.org/2004/02/skos/core#broader",
                                     ctx=ctx, param=param) from None
    return values


def projection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The projection options shared by every subcommand."""
    options: list[Any] = [
        click.option("--graph", "graphs", multiple=True, metavar="article|background|all|IRI",
                     help="Graphs to project (default: all)."),
        click.option("--predicate", "predicates", multiple=True, metavar="IRI",
                     callback=absolute_iris, help="Keep only these predicates (repeatable)."),
        click.option("--class", "classes", multiple=True, metavar="IRI", callback=absolute_iris,
                     help="Keep only entities of these classes (repeatable)."),
        click.option("--include", "include", multiple=True,
                     type=click.Choice(["time", "documents", "sentences", "observations",
                                        "schema"]),
                     help="Put back a kind left out by default (repeatable)."),
        click.option("--collapse-observations", is_flag=True,
                     help="Turn statistical observations into derived edges."),
        FORMAT,
        with_settings(*STORE_SETTINGS, "article", "analysis_timeout"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def with_projection(func: Callable[..., Any]) -> Callable[..., Any]:
    """Open the store, project it, call ``func(projection, fmt=, timeout=, ...)``, close.

    The analyses read only the projection; :func:`with_projection_and_store` is for the
    one that also writes into the store."""
    return _projected(func, pass_store=False)


def with_projection_and_store(func: Callable[..., Any]) -> Callable[..., Any]:
    """As :func:`with_projection`, and the open store goes to ``func`` as ``store=``."""
    return _projected(func, pass_store=True)


def _projected(func: Callable[..., Any], pass_store: bool) -> Callable[..., Any]:
    @functools.wraps(func)
    def run(settings: Settings, graphs: tuple[str, ...], predicates: tuple[str, ...],
            classes: tuple[str, ...], include: tuple[str, ...], collapse_observations: bool,
            fmt: str, **kwargs: Any) -> None:
        from graph.analysis import ProjectionOptions, project
        from graph.knowledge.build import ensure_seed

        store = open_configured_store(settings)
        try:
            ensure_seed(store, settings.article)
            choice: Any = graphs[0] if len(graphs) == 1 and ":" not in graphs[0] else (
                tuple(graphs) or "all")
            options = ProjectionOptions(graphs=choice, predicates=predicates or None,
                                        classes=classes or None, include=frozenset(include),
                                        collapse_observations=collapse_observations)
            if pass_store:
                kwargs["store"] = store
            func(project(store, options), fmt=fmt, timeout=settings.analysis_timeout,
                 **kwargs)
        finally:
            store.close()

    return projection_options(run)


@click.group()
def analyze() -> None:
    """Relationship analyses: paths, neighbourhoods, centrality, communities..."""


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=False)).rstrip())


@analyze.command()
@click.argument("source")
@click.argument("target")
@click.option("-k", "k", default=3, show_default=True, help="How many paths.")
@click.option("--max-length", default=4, show_default=True, help="Longest path, in hops.")
@with_projection
def path(p: Any, fmt: str, timeout: float, source: str, target: str, k: int,
         max_length: int) -> None:
    """Shortest paths from SOURCE to TARGET (IRIs or labels), with their sentences."""
    from graph.analysis.bounded import k_shortest_paths

    result = k_shortest_paths(p, source, target, k=k, max_length=max_length, timeout=timeout)
    if fmt == "json":
        return echo_json(result.to_dict(p))
    if not result.paths:
        click.echo(f"no path of at most {max_length} hops")
    for i, found in enumerate(result.paths, 1):
        click.echo(f"{i}. {found.length} hops: "
                   + " — ".join(p.label(n) for n in found.nodes))
        for hop in found.hops:
            for edge in hop.edges:
                click.echo(f"     {edge.sentence_text()}")


@analyze.command()
@click.argument("entity")
@click.option("--hops", default=1, show_default=True)
@click.option("--max-nodes", default=200, show_default=True)
@with_projection
def neighbours(p: Any, fmt: str, timeout: float, entity: str, hops: int,
               max_nodes: int) -> None:
    """Entities within HOPS of ENTITY and the relationships among them."""
    from graph.analysis.bounded import neighbourhood

    found = neighbourhood(p, entity, hops=hops, max_nodes=max_nodes, timeout=timeout)
    if fmt == "json":
        return echo_json(found.to_dict(p))
    _table([(d, p.label(n), n) for n, d in found.distances.items()], ("hops", "label", "iri"))
    click.echo("")
    for edge in found.edges:
        click.echo(edge.sentence_text())


@analyze.command()
@click.option("--measure", default="pagerank", show_default=True,
              type=click.Choice(["degree", "betweenness", "pagerank", "eigenvector",
                                 "closeness"]))
@click.option("--limit", default=20, show_default=True)
@click.option("--backend", default="auto", type=click.Choice(["auto", "networkx", "igraph"]))
@click.option("-k", "k", default=None, type=int, help="Betweenness: sampled sources.")
@click.option("--seed", default=0, show_default=True)
@with_projection
def centrality(p: Any, fmt: str, timeout: float, measure: str, limit: int,
               backend: str, k: int | None, seed: int) -> None:
    """The most central entities by one measure."""
    from graph.analysis.bounded import centrality as compute

    result = compute(p, measure, limit=limit, backend=backend, k=k, seed=seed,
                     timeout=timeout)
    if fmt == "json":
        return echo_json(result.to_dict(p))
    _table([(i, f"{s:.6f}", p.label(n), n) for i, (n, s) in enumerate(result.ranking, 1)],
           ("rank", measure, "label", "iri"))


@analyze.command()
@click.option("--algorithm", default="louvain", type=click.Choice(["louvain",
                                                                    "label_propagation"]))
@click.option("--seed", default=0, show_default=True)
@click.option("--resolution", default=1.0, show_default=True)
@click.option("--members", default=10, show_default=True, type=COUNT,
              help="Members shown per community.")
@with_projection
def communities(p: Any, fmt: str, timeout: float, algorithm: str, seed: int,
                resolution: float, members: int) -> None:
    """Communities of densely linked entities."""
    from graph.analysis.bounded import communities as compute
    from graph.analysis.limits import MAX_MEMBERS, check_range

    check_range(members, 1, MAX_MEMBERS, "members", "members listed per community")
    found = compute(p, algorithm, seed=seed, resolution=resolution, timeout=timeout)
    if fmt == "json":
        return echo_json(found.to_dict(p, members=members))
    click.echo(f"{len(found.groups)} communities, modularity {found.modularity:.4f}")
    for i, group in enumerate(found.groups, 1):
        shown = ", ".join(p.label(n) for n in group[:members])
        click.echo(f"{i}. ({len(group)}) {shown}{' …' if len(group) > members else ''}")


@analyze.command()
@click.option("--limit", default=20, show_default=True, type=COUNT)
@with_projection
def components(p: Any, fmt: str, timeout: float, limit: int) -> None:
    """Connected components, largest first."""
    from graph.analysis.bounded import components as compute
    from graph.analysis.limits import MAX_LIMIT, check_range

    check_range(limit, 1, MAX_LIMIT, "limit", "components listed")
    found = compute(p, timeout=timeout)
    if fmt == "json":
        shown = enumerate(found[:limit], 1)
        return echo_json({"count": len(found), "components": [
            {"id": i, "size": len(c), "members": list(c)} for i, c in shown]})
    click.echo(f"{len(found)} components")
    _table([(i, len(c), p.label(c[0])) for i, c in enumerate(found[:limit], 1)],
           ("id", "size", "first member"))


@analyze.command()
@click.option("--limit", default=20, show_default=True)
@with_projection
def connectors(p: Any, fmt: str, timeout: float, limit: int) -> None:
    """Key connectors: articulation points and bridges."""
    from graph.analysis.bounded import connectors as compute

    found = compute(p, limit=limit, timeout=timeout)
    if fmt == "json":
        return echo_json(found.to_dict(p))
    click.echo("articulation points:")
    _table([(d, p.label(n), n) for n, d in found.articulation_points], ("degree", "label", "iri"))
    click.echo("\nbridges:")
    for edges in found.bridges:
        click.echo("  " + "; ".join(e.sentence_text() for e in edges))


@analyze.command()
@click.argument("entity")
@click.option("--limit", default=10, show_default=True)
@with_projection
def similar(p: Any, fmt: str, timeout: float, entity: str, limit: int) -> None:
    """Entities whose neighbours are most like ENTITY's (Jaccard)."""
    from graph.analysis.bounded import similar as compute

    found = compute(p, entity, limit=limit, timeout=timeout)
    if fmt == "json":
        return echo_json([dict(p.node_dict(n), score=s) for n, s in found])
    _table([(f"{s:.3f}", p.label(n), n) for n, s in found], ("jaccard", "label", "iri"))


@analyze.command()
@click.option("--measure", "measures", multiple=True,
              type=click.Choice(["degree", "betweenness", "pagerank", "eigenvector",
                                 "closeness"]),
              help="Measures to write (default: pagerank, betweenness, degree).")
@click.option("--seed", default=0, show_default=True)
@with_projection_and_store
def write(p: Any, store: Any, fmt: str, timeout: float, measures: tuple[str, ...],
          seed: int) -> None:
    """Write scores and communities into the graph .../graph/analyses, with PROV."""
    from graph.analysis.bounded import write_analyses

    report = write_analyses(store, p, measures or ("pagerank", "betweenness", "degree"),
                            community_seed=seed, seed=seed, timeout=timeout)
    if fmt == "json":
        return echo_json(report.to_dict())
    click.echo(f"{report.triples} triples written to {report.graph} by {report.run}")
