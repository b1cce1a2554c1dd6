"""IRIs of the her2kg patient vocabulary that the FHIR importer writes, as plain strings.

Every name here is declared in `ontology/modules/patient.ttl` (or `drugs.ttl`); a test checks it.
The importer never names a clinical code: codes are read from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from her2kg.vocabulary import BASE, PREFIXES

RDF_TYPE: Final = PREFIXES["rdf"] + "type"
OWL_DATATYPE_PROPERTY: Final = PREFIXES["owl"] + "DatatypeProperty"
OWL_OBJECT_PROPERTY: Final = PREFIXES["owl"] + "ObjectProperty"
XSD_DATE: Final = PREFIXES["xsd"] + "date"
XSD_DECIMAL: Final = PREFIXES["xsd"] + "decimal"
XSD_STRING: Final = PREFIXES["xsd"] + "string"

# classes
PATIENT: Final = BASE + "Patient"
CONDITION: Final = BASE + "Condition"
DISTANT_METASTASIS: Final = BASE + "DistantMetastasis"
OBSERVATION: Final = BASE + "Observation"
PROCEDURE: Final = BASE + "Procedure"
BREAST_CANCER: Final = BASE + "BreastCancer"
BREAST_CANCER_SURGERY: Final = BASE + "BreastCancerSurgery"
DRUG: Final = BASE + "Drug"
DRUG_PRODUCT: Final = BASE + "DrugProduct"
THERAPY_EXPOSURE: Final = BASE + "TherapyExposure"
UNIDENTIFIED_THERAPY_EXPOSURE: Final = BASE + "UnidentifiedTherapyExposure"
THERAPY_END_REASON: Final = BASE + "TherapyEndReason"
THERAPY_PHASE: Final = BASE + "TherapyPhase"
PROPOSED_PLAN: Final = BASE + "ProposedPlan"
PROPOSED_ORDER: Final = BASE + "ProposedOrder"
RESULT_VALUE: Final = BASE + "ResultValue"

# observation classes whose values the importer reads in a class-specific way
HER2_TEST: Final = BASE + "HER2Test"
HER2_IHC_TEST: Final = BASE + "HER2IHCTest"
HER2_ISH_TEST: Final = BASE + "HER2ISHTest"
HER2_INTERPRETATION: Final = BASE + "HER2StatusInterpretation"
ER_TEST: Final = BASE + "EstrogenReceptorTest"
PR_TEST: Final = BASE + "ProgesteroneReceptorTest"
HR_TEST: Final = BASE + "CombinedHormoneReceptorTest"
LVEF: Final = BASE + "LVEFMeasurement"
TUMOUR_SIZE: Final = BASE + "TumourSizeMeasurement"
T_CATEGORY_OBS: Final = BASE + "PrimaryTumourCategory"
N_CATEGORY_OBS: Final = BASE + "RegionalNodesCategory"
M_CATEGORY_OBS: Final = BASE + "DistantMetastasisCategory"
STAGE_GROUP_OBS: Final = BASE + "StageGroupObservation"
DISEASE_STATUS: Final = BASE + "DiseaseStatusAssessment"
PATHOLOGIC_RESPONSE: Final = BASE + "PathologicResponseAssessment"
DISEASE_BURDEN: Final = BASE + "DiseaseBurdenAssessment"

# result value families (direct subclasses of h:ResultValue)
QUALITATIVE: Final = BASE + "QualitativeResult"
IHC_SCORE: Final = BASE + "IHCScore"
T_CATEGORY: Final = BASE + "TCategory"
N_CATEGORY: Final = BASE + "NCategory"
M_CATEGORY: Final = BASE + "MCategory"
STAGE_GROUP: Final = BASE + "StageGroup"
DISEASE_STATUS_VALUE: Final = BASE + "DiseaseStatusValue"
PATHOLOGIC_RESPONSE_VALUE: Final = BASE + "PathologicResponseValue"
DISEASE_BURDEN_VALUE: Final = BASE + "DiseaseBurdenValue"

# individuals
POSITIVE: Final = BASE + "positive"
NEGATIVE: Final = BASE + "negative"
EQUIVOCAL: Final = BASE + "equivocal"
INDETERMINATE: Final = BASE + "indeterminate"
IHC_0: Final = BASE + "ihc-0"
IHC_1: Final = BASE + "ihc-1plus"
IHC_2: Final = BASE + "ihc-2plus"
IHC_3: Final = BASE + "ihc-3plus"
M1: Final = BASE + "m1"
STAGE_4: Final = BASE + "stage-4"
DISEASE_PROGRESSION: Final = BASE + "disease-progression"
NEOADJUVANT_PHASE: Final = BASE + "neoadjuvant-phase"
ADJUVANT_PHASE: Final = BASE + "adjuvant-phase"
METASTATIC_PHASE: Final = BASE + "metastatic-phase"
UNKNOWN_PHASE: Final = BASE + "unknown-phase"
ONGOING: Final = BASE + "ongoing-status"
ENDED: Final = BASE + "ended-status"
ENDED_BY_COMPLETION: Final = BASE + "ended-by-completion"
ENDED_BY_PROGRESSION: Final = BASE + "ended-by-progression"
ENDED_BY_TOXICITY: Final = BASE + "ended-by-toxicity"

# Condition.clinicalStatus (FHIR condition-clinical codes) -> her2kg clinical status
CONDITION_STATUS: Final[Mapping[str, str]] = MappingProxyType(
    {
        code: BASE + f"condition-{code}"
        for code in ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
    }
)

# properties
PATIENT_ID: Final = BASE + "patientId"
BIRTH_DATE: Final = BASE + "birthDate"
HAS_CONDITION: Final = BASE + "hasCondition"
HAS_OBSERVATION: Final = BASE + "hasObservation"
HAS_PROCEDURE: Final = BASE + "hasProcedure"
HAS_THERAPY: Final = BASE + "hasTherapy"
HAS_PROPOSED_PLAN: Final = BASE + "hasProposedPlan"
HAS_ORDER: Final = BASE + "hasOrder"
ORDER_ROUTE: Final = BASE + "orderRoute"
ORDER_PRODUCT: Final = BASE + "orderProduct"
ROUTE: Final = BASE + "Route"
DRUG_UNAVAILABLE: Final = BASE + "drugUnavailable"
ONSET_DATE: Final = BASE + "onsetDate"
EFFECTIVE_DATE: Final = BASE + "effectiveDate"
PERFORMED_DATE: Final = BASE + "performedDate"
RESULT: Final = BASE + "result"
ISH_RATIO: Final = BASE + "ishRatio"
RATIO_COMPARATOR: Final = BASE + "ratioComparator"
HER2_COPY_NUMBER: Final = BASE + "her2CopyNumber"
PERCENT_VALUE: Final = BASE + "percentValue"
SIZE_MM: Final = BASE + "sizeMillimetres"
DRUG_PROP: Final = BASE + "drug"
START_DATE: Final = BASE + "startDate"
END_DATE: Final = BASE + "endDate"
THERAPY_PHASE_PROP: Final = BASE + "therapyPhase"
EXPOSURE_STATUS: Final = BASE + "exposureStatus"
SOURCE_REFERENCE: Final = BASE + "sourceReference"
CLINICAL_STATUS: Final = BASE + "clinicalStatus"
ABATEMENT_DATE: Final = BASE + "abatementDate"
END_REASON: Final = BASE + "endReason"
RECORDED_TEXT: Final = BASE + "recordedText"

# FHIR names the importer reads (structure, not terminology)
THERAPY_PHASE_EXTENSION: Final = "https://w3id.org/her2kg/fhir/StructureDefinition/therapy-phase"
TERMINATION_REASON_EXTENSION: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-treatment-termination-reason"
HER2KG_CODE_SYSTEM: Final = "https://w3id.org/her2kg/fhir/CodeSystem/her2kg"
UCUM: Final = "http://unitsofmeasure.org"

# Observation classes whose value decides HER2 or hormone receptor status, or cardiac safety:
# a missing or unreadable value there is an error, never a silent omission.
SAFETY_CRITICAL_OBSERVATIONS: Final = frozenset(
    {HER2_IHC_TEST, HER2_ISH_TEST, HER2_INTERPRETATION, ER_TEST, PR_TEST, HR_TEST, LVEF}
)

# Observation classes whose subclasses are ways of testing one thing: codings of one
# CodeableConcept that name several of them (HER2 as an interpretation and as an IHC test) are
# alternative codes of one observation, not a conflict.
ONE_ANALYTE_CLASSES: Final = frozenset({HER2_TEST})

# Which result value families each observation class accepts as a coded answer.
VALUE_FAMILIES: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        HER2_IHC_TEST: frozenset({QUALITATIVE, IHC_SCORE}),
        HER2_ISH_TEST: frozenset({QUALITATIVE}),
        HER2_INTERPRETATION: frozenset({QUALITATIVE}),
        ER_TEST: frozenset({QUALITATIVE}),
        PR_TEST: frozenset({QUALITATIVE}),
        HR_TEST: frozenset({QUALITATIVE}),
        T_CATEGORY_OBS: frozenset({T_CATEGORY}),
        N_CATEGORY_OBS: frozenset({N_CATEGORY}),
        M_CATEGORY_OBS: frozenset({M_CATEGORY}),
        STAGE_GROUP_OBS: frozenset({STAGE_GROUP}),
        DISEASE_STATUS: frozenset({DISEASE_STATUS_VALUE}),
        PATHOLOGIC_RESPONSE: frozenset({PATHOLOGIC_RESPONSE_VALUE}),
        DISEASE_BURDEN: frozenset({DISEASE_BURDEN_VALUE}),
    }
)
