"""Thin FastAPI routers: parse, call one service function, shape the answer."""

from tierbook.api.routers import audit, auth, customers, events, staff, work

ROUTERS = (auth.router, customers.router, work.router, staff.router, events.router, audit.router)
