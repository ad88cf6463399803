"""The data contract and its validation, feature definitions, the point-in-time engine, the online store."""
