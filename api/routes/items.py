"""Placeholder router; filled in by the items routes."""

from fastapi import APIRouter

router = APIRouter(tags=["items"])
