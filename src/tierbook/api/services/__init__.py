"""Service functions behind the routers: each takes a session and the viewer, and opens no
transaction of its own (the request's unit of work commits)."""
