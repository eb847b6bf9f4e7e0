"""One source, one folder: every source declares itself in spiders/<source>/ and nothing else names it.

The declarations (source.yml) are checked, the folder holds everything a source is, record types are
defined once, and the rest of the code base reads the declarations instead of naming a source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spiders import available
from spiders.source import (
    ROOT,
    SourceDeclarationError,
    _registry,
    item_fields,
    load_source,
    record_types,
    sources,
)
from transforms.build import INTERFACES, discover

REPO = ROOT.parent
SOURCES = sorted(sources())


@pytest.mark.parametrize("name", SOURCES)
def test_a_source_folder_holds_everything_the_source_is(name: str) -> None:
    source = sources()[name]
    for part in ("source.yml", "spider.py", "fields.py", "replica.py"):
        assert (source.path / part).is_file(), f"{name} lacks {part}"
    staging = sorted(source.models.glob("stg_*.sql"))
    assert staging, f"{name} has no staging model"
    assert all(re.match(r"stg_[a-z]+__[a-z_]+\.sql$", p.name) for p in staging)
    assert any(p.stem in INTERFACES for p in source.models.glob("*.sql")), f"{name} feeds no core shape"
    notes = list(source.fixtures.glob("README.md"))
    assert notes and notes[0].read_text("utf-8").strip(), f"{name}'s fixtures say nowhere where their shape comes from"
    spider = available()[name]
    assert spider.metadata is source and spider.fields == item_fields(name)
    assert source.reference and all("registries.md" in r for r in source.reference)


def test_every_model_of_a_source_becomes_a_staging_model() -> None:
    models = discover()
    for name, source in sources().items():
        for path in source.models.glob("*.sql"):
            expected = f"staging.{name}__{path.stem}" if path.stem in INTERFACES else f"staging.{path.stem}"
            assert models[expected].path == path


def test_record_types_are_defined_once_with_labels_and_flags() -> None:
    types = record_types()
    yielded = {t for s in sources().values() for t in s.record_types}
    assert yielded == set(types)
    for record_type in types.values():
        assert record_type.label_zh and record_type.label_en and re.match(r"#[0-9a-f]{6}$", record_type.colour)


def write_source(root: Path, name: str, record_types_yml: str, extra: str = "") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "source.yml").write_text(
        f"title: T -- 测试\nplatform: test\nlive_base_url: https://example.invalid\nreference: [registries.md §0]\n"
        f"{extra}record_types:\n{record_types_yml}", "utf-8")
    return folder


TYPE = "  thing:\n    zh: 事物\n    en: Thing\n    colour: \"#123456\"\n"


def test_a_record_type_defined_twice_or_never_is_an_error_naming_the_files(tmp_path: Path) -> None:
    write_source(tmp_path / "a", "one", TYPE)
    write_source(tmp_path / "a", "two", TYPE)
    with pytest.raises(SourceDeclarationError, match="defined twice, by one and two"):
        _registry(tmp_path / "a")
    write_source(tmp_path / "b", "one", "  other: ~\n")
    with pytest.raises(SourceDeclarationError, match=r"one/source.yml: record type\(s\) other are defined by no"):
        _registry(tmp_path / "b")


@pytest.mark.parametrize(("yml", "extra", "message"), [
    ("  thing:\n    zh: 事物\n", "", "record_types.thing lacks en, colour"),
    (TYPE + "    dishonest_list: yes please\n", "", "dishonest_list must be true or false"),
    (TYPE, "min_items: -1\n", "min_items must be a whole number"),
    (TYPE, "surprise: 1\n", "unknown keys surprise"),
])
def test_a_bad_declaration_names_the_file_and_the_key(tmp_path: Path, yml: str, extra: str, message: str) -> None:
    folder = write_source(tmp_path, "one", yml, extra)
    with pytest.raises(SourceDeclarationError, match=re.escape(message)) as caught:
        load_source(folder)
    assert str(folder / "source.yml") in str(caught.value)


# Files outside the source folders that may name a source: the removal rules (a rule is about a
# platform's records) and the tests. Names that are also record types (court_dishonest) are record types
# everywhere else.
ALLOWED = ("tests/", "transforms/removal/rules.yaml")
CODE = ("*.py", "*.sql", "*.yml", "*.yaml", "*.csv", "*.toml", "Makefile")


def test_nothing_outside_a_source_folder_names_a_source() -> None:
    names = [n for n in SOURCES if n not in record_types()]
    folders = {sources()[n].path for n in SOURCES}
    offenders = []
    for pattern in CODE:
        for path in REPO.rglob(pattern):
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith((".venv/", ".git/", "data/", "exports/", *ALLOWED)):
                continue
            if any(folder in path.parents for folder in folders):
                continue
            text = path.read_text("utf-8", "replace")
            offenders += [f"{relative}: {n}" for n in names if re.search(rf"\b{n}\b", text)]
    assert not offenders, offenders
