"""The one item pipeline: hands every discovery item to the sink the caller provided."""

from __future__ import annotations

from scrapy.exceptions import NotConfigured


class SinkPipeline:
    def __init__(self, sink):
        self.sink = sink

    @classmethod
    def from_crawler(cls, crawler):
        sink = crawler.settings.get("A11YCRAWL_SINK")
        if sink is None:
            raise NotConfigured("no A11YCRAWL_SINK set")
        return cls(sink)

    async def process_item(self, item):
        await self.sink(item)
        return item
