"""Reading and writing allcare's data in the formats other systems use (case files, later FHIR)."""
