"""One module per registry source. A spider is found by its `name`; adding a source is adding a module."""

from __future__ import annotations


def available() -> dict[str, type]:
    """Spider classes by source name (every RegistrySpider subclass with a name in this package)."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["spiders"]}))
    return {name: loader.load(name) for name in sorted(loader.list())}
