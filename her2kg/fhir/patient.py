"""Patient -> the patient node: h:patientId and h:birthDate."""

from __future__ import annotations

from her2kg.fhir import terms
from her2kg.fhir.common import date_literal, date_notice, read_date
from her2kg.fhir.model import EntryContext, EntryResult, Node, Object, TypedLiteral
from her2kg.notices import Notice


def map_patient(ctx: EntryContext) -> EntryResult:
    statements: list[tuple[str, Object]] = [
        (terms.PATIENT_ID, TypedLiteral(ctx.resource_id, terms.XSD_STRING)),
        (terms.SOURCE_REFERENCE, TypedLiteral(ctx.source_reference, terms.XSD_STRING)),
    ]
    warnings: list[Notice] = []
    birth = read_date(ctx.resource, ("birthDate",))
    if birth.day is not None:
        statements.append((terms.BIRTH_DATE, date_literal(birth.day)))
    else:
        notice = date_notice(ctx, birth, what="birth date", needed=False)
        if notice is not None:
            warnings.append(notice)
    node = Node(iri=ctx.patient_iri, link="", types=(terms.PATIENT,), statements=tuple(statements))
    return EntryResult(facts=(node,), warnings=tuple(warnings))
