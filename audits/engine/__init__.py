"""The engine: one run of crawl, render, axe and store (browser, login, incremental reuse)."""
