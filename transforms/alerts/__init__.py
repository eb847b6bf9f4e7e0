"""Alerts (提醒): events computed from the warehouse's history, routed by watchlists, written as Chinese
digests. Pure: reading the warehouse, no sending — flows/alerts.py sends, through an outbox.

- events.py: the event kinds (kinds.csv + queries/<kind>.sql) and their computation;
- config.py: alerts.yaml, checked, with errors naming the line and key;
- routing.py: which events go to which channel;
- digest.py: the messages, within each platform's size limit;
- labels.py: record-type labels and the lists that make a new entry critical.
"""
