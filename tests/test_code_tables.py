"""docs/codes.md: its code tables are generated from the knowledge base and kept current."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2kg.code_tables import BEGIN, END, render_code_tables, update_document
from her2kg.knowledge import knowledge_ntriples
from her2kg.stores.embedded import EmbeddedStore

DOC = Path(__file__).resolve().parents[1] / "docs" / "codes.md"


@pytest.fixture(scope="module")
def tables() -> str:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    return render_code_tables(store)


def test_committed_code_tables_are_current(tables: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert update_document(text, tables) == text, "regenerate with: python -m her2kg.code_tables docs/codes.md"


def test_tables_list_drugs_products_and_other_codes(tables: str) -> None:
    assert tables.startswith(BEGIN) and tables.endswith(END)
    assert "| ado-trastuzumab emtansine | C82492 | 1371041 | 702836004 | - | L01FD03 |" in tables
    assert "| pertuzumab + trastuzumab | RxNorm 2382605 | Phesgo | subcutaneous route |" in tables
    assert "| pertuzumab + trastuzumab | ATC L01FY01 | pertuzumab and trastuzumab (ATC combination) | - |" in tables
    assert "| lung metastasis | ICD-10-CM code | C78.0* |" in tables


def test_a_code_added_to_the_ontology_appears_in_the_tables() -> None:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    store.load_turtle(
        b"@prefix h: <https://w3id.org/her2kg/> .\n"
        b'h:Pregnancy <http://www.w3.org/2004/02/skos/core#notation> "Z34.90"^^h:ICD10CM .\n'
    )
    assert "| pregnancy | ICD-10-CM code | Z33.1, Z34.90 |" in render_code_tables(store)


def test_a_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="marker"):
        update_document("# Codes\n", BEGIN + "\n" + END)
