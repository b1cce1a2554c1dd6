"""The FHIR R4 / mCODE importer: a Bundle in JSON -> the her2kg patient vocabulary.

    from her2kg.fhir import import_bundle, load_code_mapping, read_bundle_file

    mapping = load_code_mapping()              # read once from the knowledge base
    result = import_bundle(read_bundle_file("p01.json"), mapping=mapping, source="p01.json")
    result.ntriples, result.errors, result.warnings, result.ignored

Which codes mean what is knowledge-base data (`ontology/modules/fhir-mapping.ttl` and the drug
notations of `drugs.ttl`), not Python. rdflib is not imported here, so that `her2kg recommend`
stays quick to start.
"""

from __future__ import annotations

from her2kg.fhir.bundle import RESOURCE_MAPPERS, import_bundle
from her2kg.fhir.mapping import CodeMapping, Concept, load_code_mapping
from her2kg.fhir.model import FhirImport, IgnoredEntry
from her2kg.fhir.reader import read_bundle_file

__all__ = [
    "RESOURCE_MAPPERS",
    "CodeMapping",
    "Concept",
    "FhirImport",
    "IgnoredEntry",
    "import_bundle",
    "load_code_mapping",
    "read_bundle_file",
]
