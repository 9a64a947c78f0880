"""ASGI entry point for uvicorn workers: ``uvicorn twin.api.asgi:app``."""

from twin.api.app import create_app

app = create_app()
