"""Placeholder router; filled in by the admin routes."""

from fastapi import APIRouter

router = APIRouter(tags=["admin"])
