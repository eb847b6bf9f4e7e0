"""Mechanics shared by the sources of one registry platform (an app several sources read): the spider side
in `<platform>.py`, the replica side in `<platform>_replica.py`. A platform module never names a source;
a source's folder imports what it needs from here (a replica-side module may keep a registry each source's
replica.py fills with what it publishes)."""
