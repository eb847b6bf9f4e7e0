"""A source's declaration (`spiders/<source>/source.yml`) and the registry of every source and record type.

A source is one folder under spiders/ (like an OpenSanctions dataset: a metadata file and its crawl code):

    spiders/<source>/
        source.yml     this module's `Source`: title, platform, live base URL, the registries.md sections it
                       follows, its count minimum, the record types it yields with their labels and flags
        spider.py      where to go, how to page, how to read a record (callbacks only)
        fields.py      `FIELDS`: the item schema of each record type the spider yields
        replica.py     its replica routes, its share of the replica world, its ground truth
        models/        stg_<platform>__<entity>.sql, and the models that put it in a core shape
                       (credit_records.sql, licences.sql, … — see transforms/build.py INTERFACES)
        fixtures/      saved responses in the real shape, with a note of where the shape comes from

Everything downstream reads these declarations instead of naming a source: the model build finds each
source's models, `seeds.record_types` (labels and flags of every record type) and `seeds.sources` are
built from them, and the export, the report, the marts, the purge and the removal engine read those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
COLOUR = re.compile(r"^#[0-9a-f]{6}$")
FLAGS = ("dishonest_list", "uncoded_subject_is_person", "blocks_licence_renewal")


class SourceDeclarationError(ValueError):
    """A source.yml that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class RecordType:
    """A kind of credit record as the rest of the pipeline sees it (core.credit_records.record_type),
    e.g. `abnormal_operation -- 经营异常名录`. Defined in exactly one source.yml; other sources that yield it
    name it without redefining it."""

    name: str
    label_zh: str
    label_en: str
    dishonest_list: bool  # a 失信惩戒 list: shown red in the workbook, counted as dishonesty in risk
    uncoded_subject_is_person: bool  # a subject published without an organisation code is a natural person
    # (a 失信被执行人 entry lists a person by name and masked ID number): personal data, masked and purged
    blocks_licence_renewal: bool  # an open record stands in the way of a telecom licence renewal
    colour: str  # the report's chart colour for this type
    defined_by: str  # the source whose source.yml defines it


@dataclass(frozen=True)
class Source:
    """A source's metadata block (source.yml)."""

    name: str  # the folder name; also the spider's name and the `source` column everywhere
    title: str  # English name -- Chinese name
    platform: str  # the registry platform (creditchina, gsxt, miit, court, tax, …)
    live_base_url: str  # scheme + host of the live registry; paths in the spider are the real ones
    reference: tuple[str, ...]  # the registries.md sections the spider follows
    min_items: int  # count assertion: fewer clean records than this → the source is incomplete
    record_types: tuple[str, ...]  # the record types it yields downstream (see RecordType)
    captcha: str | None  # what captcha the source meets, if any ("4-character image", "slider", …)
    files: dict[str, str]  # file formats that can feed it (`creditwatch ingest`) → the item type they yield
    path: Path

    @property
    def host(self) -> str:
        return self.live_base_url.split("://", 1)[1].rstrip("/")

    @property
    def models(self) -> Path:
        return self.path / "models"

    @property
    def fixtures(self) -> Path:
        return self.path / "fixtures"


def _fail(path: Path, message: str) -> SourceDeclarationError:
    return SourceDeclarationError(f"{path}: {message}")


def _flag(path: Path, type_name: str, raw: dict[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise _fail(path, f"record_types.{type_name}.{key} must be true or false, not {value!r}")
    return value


def _record_types(path: Path, source: str, raw: Any) -> tuple[tuple[str, ...], list[RecordType]]:
    if not isinstance(raw, dict) or not raw:
        raise _fail(path, "record_types must map each record type to its labels and flags (or ~ when another "
                          "source defines it)")
    names, defined = [], []
    for name, spec in raw.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise _fail(path, f"record type {name!r} is not a lower_snake_case name")
        names.append(name)
        if spec is None:
            continue  # defined by another source
        if not isinstance(spec, dict):
            raise _fail(path, f"record_types.{name} must be a mapping or ~")
        missing = [k for k in ("zh", "en", "colour") if not spec.get(k)]
        if missing:
            raise _fail(path, f"record_types.{name} lacks {', '.join(missing)}")
        if not COLOUR.match(str(spec["colour"])):
            raise _fail(path, f"record_types.{name}.colour must look like #4e79a7, not {spec['colour']!r}")
        unknown = set(spec) - {"zh", "en", "colour", *FLAGS}
        if unknown:
            raise _fail(path, f"record_types.{name} has unknown keys {', '.join(sorted(unknown))}")
        defined.append(RecordType(
            name=name, label_zh=str(spec["zh"]), label_en=str(spec["en"]),
            dishonest_list=_flag(path, name, spec, "dishonest_list"),
            uncoded_subject_is_person=_flag(path, name, spec, "uncoded_subject_is_person"),
            blocks_licence_renewal=_flag(path, name, spec, "blocks_licence_renewal"),
            colour=str(spec["colour"]), defined_by=source,
        ))
    return tuple(names), defined


def load_source(folder: Path) -> tuple[Source, list[RecordType]]:
    """Read and check one folder's source.yml."""
    path = folder / "source.yml"
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as error:
        raise _fail(path, f"not valid YAML ({error})") from error
    if not isinstance(raw, dict):
        raise _fail(path, "must be a mapping of keys")
    required = ("title", "platform", "live_base_url", "reference", "record_types")
    missing = [k for k in required if k not in raw]
    if missing:
        raise _fail(path, f"missing {', '.join(missing)}")
    unknown = set(raw) - {*required, "min_items", "captcha", "files"}
    if unknown:
        raise _fail(path, f"unknown keys {', '.join(sorted(unknown))}")
    if not str(raw["live_base_url"]).startswith(("https://", "http://")):
        raise _fail(path, f"live_base_url must be a scheme and host, not {raw['live_base_url']!r}")
    reference = raw["reference"]
    reference = (reference,) if isinstance(reference, str) else tuple(str(r) for r in reference or ())
    if not reference:
        raise _fail(path, "reference must name the registries.md sections the spider follows")
    min_items = raw.get("min_items", 1)
    if not isinstance(min_items, int) or min_items < 0:
        raise _fail(path, f"min_items must be a whole number >= 0, not {min_items!r}")
    files = raw.get("files") or {}
    if not isinstance(files, dict):
        raise _fail(path, "files must map a file format to the item type it yields")
    names, defined = _record_types(path, folder.name, raw["record_types"])
    source = Source(
        name=folder.name, title=str(raw["title"]), platform=str(raw["platform"]),
        live_base_url=str(raw["live_base_url"]).rstrip("/"), reference=reference, min_items=min_items,
        record_types=names, captcha=raw.get("captcha"), files={str(k): str(v) for k, v in files.items()},
        path=folder,
    )
    return source, defined


def source_folders(root: Path = ROOT) -> list[Path]:
    """Every folder under spiders/ that declares a source (has a source.yml), by name."""
    return sorted(p.parent for p in root.glob("*/source.yml") if NAME.match(p.parent.name))


@cache
def _registry(root: Path = ROOT) -> tuple[dict[str, Source], dict[str, RecordType]]:
    sources: dict[str, Source] = {}
    types: dict[str, RecordType] = {}
    for folder in source_folders(root):
        source, defined = load_source(folder)
        sources[source.name] = source
        for record_type in defined:
            if record_type.name in types:
                raise SourceDeclarationError(
                    f"record type {record_type.name!r} is defined twice, by {types[record_type.name].defined_by} "
                    f"and {source.name}: define it once and write `{record_type.name}: ~` in the other source.yml")
            types[record_type.name] = record_type
    for source in sources.values():
        undefined = [t for t in source.record_types if t not in types]
        if undefined:
            raise SourceDeclarationError(
                f"{source.path / 'source.yml'}: record type(s) {', '.join(undefined)} are defined by no source.yml")
    return sources, types


def sources() -> dict[str, Source]:
    """Every declared source, by name."""
    return dict(_registry()[0])


def record_types() -> dict[str, RecordType]:
    """Every record type any source yields, with its labels and flags, by name."""
    return dict(_registry()[1])


def platforms() -> tuple[str, ...]:
    return tuple(sorted({s.platform for s in sources().values()}))


def item_fields(name: str) -> dict[str, Any]:
    """A source's item schemas (its fields.py `FIELDS`: item type → {field: pipelines.schemas.Field})."""
    import importlib

    if name not in sources():
        raise SourceDeclarationError(f"unknown source {name!r}; known sources: {', '.join(sources())}")
    return dict(importlib.import_module(f"spiders.{name}.fields").FIELDS)


def here(module_file: str) -> Source:
    """The source whose folder holds `module_file` (a spider.py reads its own declaration with this)."""
    name = Path(module_file).resolve().parent.name
    try:
        return sources()[name]
    except KeyError:
        raise SourceDeclarationError(f"{module_file} is not inside a source folder with a source.yml") from None
