"""FastAPI app, routes, auth and pages. The only package that imports fastapi; never imports flows."""
