"""The one record of which knowledge base was read: its ontology IRI and version, folder and digest.

Reports (`Report.knowledge_base`), validation reports and `KnowledgeBase.version` all hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from her2kg.report.json_shape import KnowledgeBaseJson


@dataclass(frozen=True)
class KnowledgeBaseVersion:
    """Which knowledge base answered: `folder` is "packaged" or the folder read, `digest` the
    sha256 of the knowledge files read (empty when not known)."""

    version: str
    iri: str
    version_iri: str = ""
    folder: str = ""
    digest: str = ""

    def with_identity(self, folder: str, digest: str) -> KnowledgeBaseVersion:
        return KnowledgeBaseVersion(self.version, self.iri, self.version_iri, folder, digest)

    def to_json(self) -> KnowledgeBaseJson:
        """As the JSON report names it (contract section 5): folder and digest when known."""
        out: KnowledgeBaseJson = {"version": self.version, "iri": self.iri}
        if self.folder:
            out["folder"] = self.folder
        if self.digest:
            out["digest"] = self.digest
        return out

    def to_dict(self) -> dict[str, str]:
        """As `her2kg validate --format json` names it."""
        return {
            "iri": self.iri,
            "version": self.version,
            "version_iri": self.version_iri,
            "folder": self.folder,
            "digest": self.digest,
        }
