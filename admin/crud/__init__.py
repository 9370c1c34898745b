"""Database operations, one module per resource. Keyword-only functions that
return ``None`` when nothing is found; routers turn that into 404."""
