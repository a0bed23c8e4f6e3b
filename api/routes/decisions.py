"""Placeholder router; filled in by the decisions routes."""

from fastapi import APIRouter

router = APIRouter(tags=["decisions"])
