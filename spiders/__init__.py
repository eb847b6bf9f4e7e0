"""One folder per registry source (spiders/<source>/, see spiders/source.py): adding a source is adding a
folder with its source.yml, spider.py, fields.py, replica.py, models/ and fixtures/."""

from __future__ import annotations


def available() -> dict[str, type]:
    """Spider classes by source name: the RegistrySpider in every source folder's spider.py."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    from spiders.source import sources

    modules = [f"spiders.{name}.spider" for name in sources()]
    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": modules}))
    return {name: loader.load(name) for name in sorted(loader.list())}
