"""The front door: ``GET /`` (what this server offers, in Indonesian and English) and the API docs served
without a CDN."""
