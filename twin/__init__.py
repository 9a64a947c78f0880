"""RoadTwin shell: settings, embedded cluster, database, schema, ingest, API and CLI.

The only package that touches the database, the network or processes.
"""
