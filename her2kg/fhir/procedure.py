"""Procedure -> a procedure node (h:hasProcedure) with h:performedDate; only completed ones.

A breast cancer surgery's date places past therapy before (neoadjuvant) or after (adjuvant) it.
"""

from __future__ import annotations

from her2kg.fhir import terms
from her2kg.fhir.codes import describe, is_procedure_class, resolve
from her2kg.fhir.common import date_literal, date_notice, read_date, status_code, unknown_code_warnings
from her2kg.fhir.jsonpath import obj
from her2kg.fhir.model import EntryContext, EntryResult, Fact, Node, Object, SurgeryEvidence, TypedLiteral
from her2kg.notices import Notice

PERFORMED_PATHS = ("performedDateTime", "performedPeriod.start")


def map_procedure(ctx: EntryContext) -> EntryResult:
    resource = ctx.resource
    resolution = resolve(obj(resource, "code"), ctx.mapping, is_procedure_class)
    if not resolution.found:
        if not resolution.codings:
            warning = ctx.warning(
                "fhir-no-code", "Procedure has no coded code; it was ignored — code it with SNOMED CT"
            )
            return EntryResult(warnings=(warning,), ignored=(ctx.ignore("no coded Procedure.code"),))
        unknown = unknown_code_warnings(ctx, "Procedure code", resolution.unmapped)
        shown = ", ".join(describe(c, ctx.mapping) for c in resolution.codings)
        return EntryResult(warnings=unknown, ignored=(ctx.ignore(f"code not known to her2kg: {shown}"),))

    status = status_code(resource)
    if status != "completed":
        reason = f"status is {status}" if status else "no status"
        warnings: tuple[Notice, ...] = ()
        if status not in {"not-done", "entered-in-error", "preparation"}:
            warnings = (
                ctx.warning("fhir-status", f"the procedure is not completed ({reason}); it was not counted as done"),
            )
        return EntryResult(warnings=warnings, ignored=(ctx.ignore(f"not completed ({reason})"),))

    statements: list[tuple[str, Object]] = [
        (terms.SOURCE_REFERENCE, TypedLiteral(ctx.source_reference, terms.XSD_STRING))
    ]
    notices: list[Notice] = []
    performed = read_date(resource, PERFORMED_PATHS)
    if performed.day is not None:
        statements.append((terms.PERFORMED_DATE, date_literal(performed.day)))
    else:
        notice = date_notice(ctx, performed, what="performed date", needed=False)
        if notice is None:
            notice = ctx.warning(
                "fhir-missing-date",
                "the procedure has no performedDateTime or performedPeriod.start; therapy cannot be placed before or after it",
            )
        notices.append(notice)
    types = tuple(sorted(c.iri for c in resolution.concepts))
    facts: list[Fact] = [
        Node(iri=ctx.node_iri("procedure"), link=terms.HAS_PROCEDURE, types=types, statements=tuple(statements))
    ]
    if any(c.is_subclass_of(terms.BREAST_CANCER_SURGERY) for c in resolution.concepts):
        facts.append(SurgeryEvidence(day=performed.day))
    return EntryResult(facts=tuple(facts), warnings=tuple(notices))
