"""Mechanics shared by the sources of one registry platform: `<platform>.py` on the spider side (requests,
paging, session handling every source of that platform needs) and `<platform>_replica.py` on the replica side
(the platform's routes, session state and answers, with a registry each source's replica.py fills with what it
publishes). A platform module never names a source (tests/test_sources.py)."""
