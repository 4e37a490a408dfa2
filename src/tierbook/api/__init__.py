"""The workbench REST API (FastAPI): login, role-scoped books, tasks, contacts, events.

``create_app(settings)`` builds the app; nothing is connected at import time.
"""
