"""The baseline for the HTTP benchmarks: FastAPI endpoints that do (almost) nothing, served by the
same uvicorn settings and garbage-collector settings as the real app (``api.app:serving_app``).
Routes are sync like the real ones, so both pay the same thread-pool hop."""

import os

from fastapi import FastAPI
from sqlalchemy import text

from api.gc_tuning import settle_for_serving
from orchestrator.db import make_engine


def create_app() -> FastAPI:
    app = FastAPI()
    engine = make_engine(os.environ["LAUNCHDECK_DATABASE_URL"])

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items/{item_id}/check")
    def check(item_id: int) -> dict[str, object]:
        return {"id": item_id, "status": "done"}

    @app.post("/items/{item_id}/read")
    def read(item_id: int) -> dict[str, object]:
        with engine.connect() as connection:
            value = connection.execute(text("SELECT :id"), {"id": item_id}).scalar_one()
        return {"id": value, "status": "done"}

    settle_for_serving()
    return app
