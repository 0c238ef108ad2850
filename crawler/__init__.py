"""Discovery only: finds a site's pages with Scrapy. Knows nothing of browsers, axe or the store."""
