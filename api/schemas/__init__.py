"""Request and response bodies of the API (pydantic models, separate from the tables), by domain."""
