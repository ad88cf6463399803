"""The data contract and its validation, feature definitions, the point-in-time engine and the online store."""
