"""The citizens' and officers' phone web app (``GET /app``): an installable PWA served by the server."""
