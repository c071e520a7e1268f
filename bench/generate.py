"""CBP-shaped benchmark data, deterministic from a seed, plus the seed and real CBP exports.

The benchmark needs data the analyst queries of ``queries/*.rq`` answer over, at sizes the
real CBP table does not reach (it is ~0.47 M quads). ``generate`` writes N-Quads shaped like
``graph.imports.cbp``'s output — ``qb:Observation``s in ``graph/cbp-encounters`` with the
ontology's dimensions, the same period, region and concept IRIs — over more fiscal years,
regions and citizenships as the size grows, and around them the agencies, removal flights
and laws an analyst walks between. Citizenship frequencies and counts are skewed (Zipf), as
in the real table, so "top citizenships" has a head and a long tail.

Every file comes with a manifest (``<file>.json``): its quad count and the parameter
domains the workload draws from (citizenships ranked by encounters, fiscal years, months,
regions, entities to look up, pairs to find paths between).

    .venv/bin/python bench/generate.py 100k [--seed 7] [--out bench/work]
    .venv/bin/python bench/generate.py seed        # the seed graph, as N-Quads
    .venv/bin/python bench/generate.py cbp FILE    # the real CBP table, imported
"""
from __future__ import annotations

import argparse
import io
import json
import random
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph import ids
from graph.intervals import fiscal_year_iri, interval_triples, month_iri

WORK = Path(__file__).resolve().parent / "work"
BKG = ids.DEF
QB = "http://purl.org/linked-data/cube#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SCHEMA = "https://schema.org/"
DCT = "http://purl.org/dc/terms/"
ORG = "http://www.w3.org/ns/org#"
TIME = "http://www.w3.org/2006/time#"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
REF_PERIOD = "http://purl.org/linked-data/sdmx/2009/dimension#refPeriod"
CONCEPT = ids.ID + "concept/"
GRAPH = ids.graph("cbp-encounters")
DATASET = ids.thing("dataset", "cbp-nationwide-encounters-state")
LAST_FY = 2024
#: citizenships named as countries the seed describes, as the importer maps them
COUNTRY_CODES = {"CHINA, PEOPLES REPUBLIC OF": "CHN", "UNITED STATES": "USA"}
NAMES = ("MEXICO", "GUATEMALA", "HONDURAS", "VENEZUELA", "CUBA", "EL SALVADOR", "COLOMBIA",
         "NICARAGUA", "ECUADOR", "HAITI", "CHINA, PEOPLES REPUBLIC OF", "INDIA", "PERU",
         "CANADA", "BRAZIL", "RUSSIA", "TURKEY", "ROMANIA", "UKRAINE", "DOMINICAN REPUBLIC")
REGIONS = ("Southwest Land Border", "Northern Land Border", "Other")
STATES = ("AZ", "CA", "NM", "TX", "WA", "MT", "ND", "MN", "MI", "NY", "VT", "ME", "ID", "FL",
          "PR", "NJ", "IL", "GA", "HI", "AK")
DEMOGRAPHICS = ("single-adults", "fmua", "uc-single-minors", "accompanied-minors")
TITLES = ("title-8", "title-42")
AGENCY_SEEDS = ("dhs", "cbp", "ice", "usbp", "ofo")


@dataclass
class Manifest:
    """What a data file holds and the parameter domains the workload draws from."""

    files: list[str]
    quads: int
    dataset: str = DATASET
    citizenships: list[str] = field(default_factory=list)  # most encounters first
    fiscal_years: list[str] = field(default_factory=list)  # latest first
    months: list[str] = field(default_factory=list)  # latest first
    regions: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # for point lookups and DESCRIBE
    path_pairs: list[list[str]] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def merged(self, other: Manifest) -> Manifest:
        """Both files' quads; ``other``'s domains where it has any (it carries the facts)."""
        pick = {name: getattr(other, name) or getattr(self, name) for name in (
            "citizenships", "fiscal_years", "months", "regions", "path_pairs")}
        return Manifest([*self.files, *other.files], self.quads + other.quads, other.dataset,
                        entities=[*other.entities, *self.entities][:5000], **pick)


def parse_size(label: str) -> int:
    """``2k`` -> 2000, ``1m`` -> 1000000, ``250000`` -> 250000."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", label.strip().lower())
    if not match:
        raise ValueError(f"size {label!r}: expected a number with an optional k or m")
    return int(float(match.group(1)) * {"": 1, "k": 10**3, "m": 10**6}[match.group(2)])


def _iri(value: str) -> str:
    return f"<{value}>"


def _literal(text: str, language: str | None = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{language}' if language else f'"{escaped}"'


def _integer(value: int) -> str:
    return f'"{value}"^^<{XSD_INTEGER}>'


class Writer:
    """N-Quads lines into one named graph, counted."""

    def __init__(self, out: IO[str], graph: str = GRAPH) -> None:
        self.out, self.graph, self.count = out, f"<{graph}>", 0

    def quad(self, s: str, p: str, o: str) -> None:
        self.out.write(f"<{s}> <{p}> {o} {self.graph} .\n")
        self.count += 1


@dataclass
class Shape:
    """How big each dimension grows with the requested size."""

    years: int
    regions: int
    citizenships: int
    agencies: int
    flights: int
    laws: int
    observations: int

    @classmethod
    def for_triples(cls, triples: int) -> Shape:
        scale = max(triples, 1000)
        years = min(40, max(3, scale // 50_000))
        regions = 3 + min(5, len(str(scale)) - 4)
        citizenships = min(400, max(12, scale // 4_000))
        agencies, laws, flights = max(5, scale // 4_000), max(3, scale // 5_000), scale // 400
        periods = years * 13 * 10  # each OWL-Time interval is ~10 quads
        codes = citizenships * 4 + regions * 2 + len(STATES) * 2
        around = agencies * 6 + laws * 5 + flights * 9 + periods + codes
        observations = max(10, (triples - around) // 11)
        return cls(years, regions, citizenships, agencies, flights, laws, observations)


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank ** s) for rank in range(1, n + 1)]


def citizenship_names(n: int) -> list[str]:
    return [*NAMES, *(f"COUNTRY {i:03d}" for i in range(len(NAMES), n))][:n]


def citizenship_iri(name: str) -> str:
    if name in COUNTRY_CODES:
        return ids.thing("country", COUNTRY_CODES[name])
    return ids.thing("citizenship", ids.slugify(name))


def region_names(n: int) -> list[str]:
    return [*REGIONS, *(f"Region {i}" for i in range(len(REGIONS), n))][:n]


def _periods(w: Writer, years: list[int]) -> list[str]:
    """Fiscal years and their months as OWL-Time intervals; the month IRIs, latest first."""
    months: list[str] = []
    for fy in years:
        iris = [fiscal_year_iri(fy)] + [month_iri(fy - 1 if m >= 10 else fy, m)
                                        for m in (10, 11, 12, *range(1, 10))]
        months += iris[1:]
        for iri in iris:
            for s, p, o in interval_triples(iri):
                w.quad(str(s), str(p), o.n3())
    return sorted(set(months), reverse=True)


def _codes(w: Writer, citizenships: list[str], regions: list[str]) -> None:
    scheme = ids.thing("citizenship", "scheme")
    w.quad(scheme, RDF_TYPE, _iri(SKOS + "ConceptScheme"))
    for name in citizenships:
        iri = citizenship_iri(name)
        if name in COUNTRY_CODES:
            continue  # the seed describes these countries
        w.quad(iri, RDF_TYPE, _iri(SKOS + "Concept"))
        w.quad(iri, SKOS + "prefLabel", _literal(name.title()))
        w.quad(iri, SKOS + "notation", _literal(name, None))
        w.quad(iri, SKOS + "inScheme", _iri(scheme))
    for name in regions[len(REGIONS):]:
        iri = ids.thing("region", ids.slugify(name))
        w.quad(iri, RDF_TYPE, _iri(BKG + "BorderRegion"))
        w.quad(iri, RDFS_LABEL, _literal(name))
    for state in STATES:
        iri = ids.thing("us-state", ids.slugify(state))
        w.quad(iri, RDFS_LABEL, _literal(state, None))
        w.quad(iri, SKOS + "notation", _literal(state, None))


def _agencies(w: Writer, n: int) -> list[str]:
    agencies = [ids.thing("org", a) for a in AGENCY_SEEDS]
    for i in range(n):
        iri = ids.thing("org", f"bench-office-{i:05d}")
        parent = agencies[i // 4] if i >= 8 else agencies[1 + i % 4]
        w.quad(iri, RDF_TYPE, _iri(BKG + "GovernmentAgency"))
        w.quad(iri, RDFS_LABEL, _literal(f"Field office {i}"))
        w.quad(iri, SKOS + "altLabel", _literal(f"FO{i}"))
        w.quad(iri, ORG + "subOrganizationOf", _iri(parent))
        w.quad(iri, DCT + "source", _iri(ids.thing("source", "title-6-usc")))
        w.quad(iri, RDFS_LABEL.replace("label", "comment"),
               _literal(f"A synthetic field office under {parent.rsplit('/', 1)[1]}."))
        agencies.append(iri)
    return agencies


def _laws(w: Writer, n: int, agencies: list[str], rng: random.Random) -> list[str]:
    laws = []
    for i in range(n):
        iri = ids.thing("source", f"bench-law-{i:05d}")
        w.quad(iri, RDF_TYPE, _iri(SCHEMA + "Legislation"))
        w.quad(iri, RDFS_LABEL, _literal(f"Enforcement act {i}"))
        w.quad(iri, DCT + "bibliographicCitation", _literal(f"Pub. L. {100 + i // 50}-{i % 50}"))
        w.quad(iri, DCT + "subject", _iri(rng.choice(agencies)))
        w.quad(iri, SCHEMA + "legislationDate", f'"{1980 + i % 45}-01-01"^^'
               "<http://www.w3.org/2001/XMLSchema#date>")
        laws.append(iri)
    return laws


def _flights(w: Writer, n: int, agencies: list[str], citizenships: list[str],
             months: list[str], rng: random.Random) -> list[str]:
    flights, weights = [], _zipf_weights(len(citizenships))
    for i in range(n):
        iri = ids.thing("flight", f"bench-removal-{i:06d}")
        citizenship = citizenship_iri(rng.choices(citizenships, weights)[0])
        w.quad(iri, RDF_TYPE, _iri(BKG + "RemovalFlight"))
        w.quad(iri, RDFS_LABEL, _literal(f"removal flight {i}"))
        w.quad(iri, BKG + "conductedBy", _iri(rng.choice(agencies[:5])))
        w.quad(iri, BKG + "assistedBy", _iri(rng.choice(agencies)))
        w.quad(iri, BKG + "citizenship", _iri(citizenship))
        w.quad(iri, BKG + "destination", _iri(citizenship))
        w.quad(iri, BKG + "ordinal", _integer(i + 1))
        w.quad(iri, TIME + "hasTime", _iri(rng.choice(months)))
        w.quad(iri, BKG + "partOfSeries", _iri(ids.thing("series", f"bench-{i % 50}")))
        flights.append(iri)
    return flights


def _observations(w: Writer, shape: Shape, years: list[int], citizenships: list[str],
                  regions: list[str], rng: random.Random, tag: str) -> list[str]:
    """``shape.observations`` observations; returns a sample of their IRIs."""
    c_iris = [_iri(citizenship_iri(c)) for c in citizenships]
    c_weights = _zipf_weights(len(c_iris))
    r_iris = [_iri(ids.thing("region", ids.slugify(r))) for r in regions]
    r_weights = _zipf_weights(len(r_iris), 1.5)
    s_iris = [_iri(ids.thing("us-state", ids.slugify(s))) for s in STATES]
    d_iris = [_iri(f"{CONCEPT}demographic/{d}") for d in DEMOGRAPHICS]
    t_iris = [_iri(f"{CONCEPT}title-of-authority/{t}") for t in TITLES]
    fy_iris = [(_iri(fiscal_year_iri(fy)), fy) for fy in years]
    p = {name: f"<{BKG}{name}>" for name in ("fiscalYear", "month", "landBorderRegion", "state",
                                              "demographic", "citizenship", "titleOfAuthority",
                                              "encounterCount")}
    head = (f"<{RDF_TYPE}> <{QB}Observation>", f"<{QB}dataSet> <{DATASET}>")
    g, out, sample = w.graph, w.out, []
    for i in range(shape.observations):
        fy_iri, fy = fy_iris[rng.randrange(len(fy_iris))]
        m = rng.randint(1, 12)
        month = f"<{month_iri(fy - 1 if m >= 10 else fy, m)}>"
        obs = ids.thing("observation", f"cbp-encounters-state/{tag}-{i:08d}")
        count = int(rng.paretovariate(1.2)) + rng.randrange(5)
        s = f"<{obs}>"
        out.write(
            f"{s} {head[0]} {g} .\n{s} {head[1]} {g} .\n"
            f"{s} {p['fiscalYear']} {fy_iri} {g} .\n{s} {p['month']} {month} {g} .\n"
            f"{s} <{REF_PERIOD}> {month} {g} .\n"
            f"{s} {p['landBorderRegion']} {rng.choices(r_iris, r_weights)[0]} {g} .\n"
            f"{s} {p['state']} {s_iris[rng.randrange(len(s_iris))]} {g} .\n"
            f"{s} {p['demographic']} {d_iris[rng.randrange(4)]} {g} .\n"
            f"{s} {p['citizenship']} {rng.choices(c_iris, c_weights)[0]} {g} .\n"
            f"{s} {p['titleOfAuthority']} {t_iris[rng.randrange(2)]} {g} .\n"
            f"{s} {p['encounterCount']} {_integer(count)} {g} .\n")
        if i % 97 == 0 and len(sample) < 2000:
            sample.append(obs)
    w.count += 11 * shape.observations
    return sample


def generate(triples: int, seed: int, out: Path) -> Manifest:
    """Write about ``triples`` CBP-shaped quads to ``out`` (N-Quads) and its manifest."""
    rng, shape = random.Random(seed), Shape.for_triples(triples)
    years = list(range(LAST_FY - shape.years + 1, LAST_FY + 1))
    citizenships, regions = citizenship_names(shape.citizenships), region_names(shape.regions)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", buffering=1 << 20) as handle:
        w = Writer(handle)
        months = _periods(w, years)
        _codes(w, citizenships, regions)
        agencies = _agencies(w, shape.agencies)
        laws = _laws(w, shape.laws, agencies, rng)
        flights = _flights(w, shape.flights, agencies, citizenships, months, rng)
        observations = _observations(w, shape, years, citizenships, regions, rng, f"s{seed}")
    entities = _interleave(observations, agencies, flights, laws)
    pairs = [[rng.choice(agencies[5:] or agencies), rng.choice(agencies[:5])] for _ in range(50)]
    manifest = Manifest([out.name], w.count, DATASET,
                        [citizenship_iri(c) for c in citizenships],
                        [fiscal_year_iri(y) for y in reversed(years)], months,
                        [ids.thing("region", ids.slugify(r)) for r in regions],
                        entities, pairs)
    manifest.write(out.with_suffix(".json"))
    return manifest


def _interleave(*lists: list[str]) -> list[str]:
    merged: list[str] = []
    for i in range(max(len(x) for x in lists)):
        merged += [x[i] for x in lists if i < len(x)]
    return merged[:4000]


# -- the seed graph and the real CBP table ---------------------------------------------------
def _dump(store: object, out: Path) -> int:
    from pyoxigraph import RdfFormat

    buffer = io.BytesIO()
    store.dump(buffer, RdfFormat.N_QUADS)  # type: ignore[attr-defined]
    out.write_bytes(buffer.getvalue())
    return buffer.getvalue().count(b"\n")


def export_seed(out: Path) -> Manifest:
    """The seed graph (ontology, article, background) as N-Quads, built as ``serve`` does."""
    from graph.knowledge.build import build, find_article
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    build(store, find_article(None))
    quads = _dump(store, out)
    entities = [row["s"].value for row in store.query(
        "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 200")]
    orgs = [ids.thing("org", a) for a in AGENCY_SEEDS]
    manifest = Manifest([out.name], quads, entities=entities,
                        path_pairs=[[ids.thing("country", "CHN"), o] for o in orgs])
    manifest.write(out.with_suffix(".json"))
    return manifest


DOMAIN_QUERIES = {
    "citizenships": "SELECT ?v (SUM(?n) AS ?t) WHERE { ?o bkg:citizenship ?v ; "
                    "bkg:encounterCount ?n } GROUP BY ?v ORDER BY DESC(?t)",
    "fiscal_years": "SELECT DISTINCT ?v WHERE { ?o a qb:Observation ; bkg:fiscalYear ?v } "
                    "ORDER BY DESC(?v)",
    "months": "SELECT DISTINCT ?v WHERE { ?o a qb:Observation ; bkg:month ?v } ORDER BY DESC(?v)",
    "regions": "SELECT ?v (COUNT(*) AS ?t) WHERE { ?o bkg:landBorderRegion ?v } "
               "GROUP BY ?v ORDER BY DESC(?t)",
    "entities": "SELECT ?v WHERE { ?v a qb:Observation } LIMIT 2000",
}


def export_cbp(csv_path: Path, out: Path) -> Manifest:
    """The real CBP table through ``graph.imports.cbp`` (what ``borderkg import
    cbp-encounters`` runs) as N-Quads, with domains read back from the imported store."""
    from graph.imports.cbp import import_cbp
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    import_cbp(store, csv_path, progress=False)
    quads = _dump(store, out)
    prefixes = f"PREFIX bkg: <{BKG}> PREFIX qb: <{QB}> "
    domains = {name: [row["v"].value for row in store.query(prefixes + text)]
               for name, text in DOMAIN_QUERIES.items()}
    manifest = Manifest([out.name], quads, DATASET, **domains,
                        path_pairs=[[ids.thing("org", "usbp"), ids.thing("country", "CHN")]])
    manifest.write(out.with_suffix(".json"))
    return manifest


def dataset_files(label: str, seed: int, work: Path = WORK,
                  cbp_csv: Path | None = None) -> Manifest:
    """The seed plus ``label``'s data (``cbp``: the real table; else a generated size),
    written once into ``work`` and reused; one merged manifest."""
    work.mkdir(parents=True, exist_ok=True)
    seed_nq = work / "seed.nq"
    base = Manifest.read(seed_nq.with_suffix(".json")) if seed_nq.with_suffix(".json").exists() \
        else export_seed(seed_nq)
    if label == "cbp":
        if cbp_csv is None:
            raise ValueError("the cbp data set needs the CBP CSV path")
        target = work / "cbp.nq"
        extra = Manifest.read(target.with_suffix(".json")) if target.with_suffix(".json").exists() \
            else export_cbp(cbp_csv, target)
    else:
        target = work / f"synth-{label}-s{seed}.nq"
        extra = Manifest.read(target.with_suffix(".json")) if target.with_suffix(".json").exists() \
            else generate(max(parse_size(label) - base.quads, 1000), seed, target)
    return base.merged(extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", help="a size (2k, 100k, 1m, 10m), 'seed' or 'cbp'")
    parser.add_argument("csv", nargs="?", type=Path, help="the CBP CSV (for 'cbp')")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=WORK)
    args = parser.parse_args(argv)
    if args.what == "seed":
        manifest = export_seed(args.out / "seed.nq")
    elif args.what == "cbp":
        manifest = export_cbp(args.csv, args.out / "cbp.nq")
    else:
        target = args.out / f"synth-{args.what}-s{args.seed}.nq"
        manifest = generate(parse_size(args.what), args.seed, target)
    print(f"{manifest.quads:,} quads -> {args.out / manifest.files[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
