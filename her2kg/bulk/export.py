"""The files of a FHIR Bulk Data export folder and the resource type of each.

An export folder holds `*.ndjson` or `*.ndjson.gz` files, one resource per line, all of one
resource type, as the Bulk Data Access IG's `$export` writes them. The type of a file comes from
the export's manifest when the folder has one (a JSON object with `output[].type` and
`output[].url`; the file is the last path segment of the url), else from the file name, which
names the type as servers write it: `Patient.ndjson`, `Observation.000.ndjson`,
`1.Observation.ndjson`, `Observation_2.ndjson.gz`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from her2kg.errors import UsageError

NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz")
_TYPE_TOKEN = re.compile(r"^[A-Z][A-Za-z]{2,}$")
GZIP_RATIO = 10  # an estimate of how much larger NDJSON is than its gzip


@dataclass(frozen=True)
class ExportFile:
    path: Path
    resource_type: str

    @property
    def estimated_bytes(self) -> int:
        size = self.path.stat().st_size
        return size * GZIP_RATIO if self.path.name.endswith(".gz") else size


@dataclass(frozen=True)
class Export:
    folder: Path
    files: tuple[ExportFile, ...]  # sorted by name
    manifest: Path | None

    def of_type(self, patient: bool) -> list[ExportFile]:
        return [f for f in self.files if (f.resource_type == "Patient") == patient]

    @property
    def estimated_bytes(self) -> int:
        return sum(f.estimated_bytes for f in self.files)


def ndjson_names(folder: Path) -> list[str]:
    with os.scandir(folder) as entries:
        return sorted(e.name for e in entries if e.name.endswith(NDJSON_SUFFIXES) and e.is_file())


def is_bulk_export(folder: Path) -> bool:
    """Whether `folder` is a Bulk export: it holds NDJSON files."""
    return folder.is_dir() and bool(ndjson_names(folder))


def type_from_name(name: str) -> str | None:
    """The resource type a file name gives (`Observation.000.ndjson` -> Observation), or None."""
    stem = name.removesuffix(".gz").removesuffix(".ndjson")
    types = [t for t in re.split(r"[._\-]", stem) if _TYPE_TOKEN.match(t)]
    return types[0] if len(types) == 1 else None


def read_export(folder: Path) -> Export:
    """The export in `folder`; raises UsageError when a file's type cannot be told, or the
    manifest lists a file that is not there."""
    names = ndjson_names(folder)
    if not names:
        raise UsageError(f"{folder} holds no *.ndjson or *.ndjson.gz file; give a FHIR Bulk Data export folder")
    manifest_path, listed = _manifest(folder)
    files: list[ExportFile] = []
    if manifest_path is not None:
        missing = sorted(n for n in listed if n not in names)
        if missing:
            raise UsageError(
                f"the manifest {manifest_path.name} lists {', '.join(missing[:5])}, which is not in {folder}; "
                "download every file of the export, or remove the manifest"
            )
        for name in names:
            if name not in listed:
                raise UsageError(
                    f"{folder / name} is not listed in the manifest {manifest_path.name}; "
                    "remove it, or remove the manifest to read every file by its name"
                )
            files.append(ExportFile(folder / name, listed[name]))
    else:
        for name in names:
            rtype = type_from_name(name)
            if rtype is None:
                raise UsageError(
                    f"cannot tell the resource type of {folder / name} from its name; name it like "
                    "Observation.ndjson or Observation.000.ndjson, or put the export's manifest beside it"
                )
            files.append(ExportFile(folder / name, rtype))
    return Export(folder, tuple(files), manifest_path)


def _manifest(folder: Path) -> tuple[Path | None, dict[str, str]]:
    """The manifest among the folder's *.json files (file name -> type), if there is one."""
    found: list[tuple[Path, dict[str, str]]] = []
    others: list[str] = []
    with os.scandir(folder) as entries:
        candidates = sorted(e.name for e in entries if e.name.endswith(".json") and e.is_file())
    for name in candidates:
        listed = _manifest_outputs(folder / name)
        if listed is None:
            others.append(name)
        else:
            found.append((folder / name, listed))
    if others:
        raise UsageError(
            f"{folder} holds NDJSON files and also {', '.join(others[:3])}, which is not an export manifest; "
            "keep a Bulk export and a folder of bundles in separate folders"
        )
    if len(found) > 1:
        raise UsageError(f"{folder} holds several export manifests ({', '.join(p.name for p, _ in found)}); keep one")
    return found[0] if found else (None, {})


def _manifest_outputs(path: Path) -> dict[str, str] | None:
    try:
        return manifest_outputs(path.read_bytes(), path.name)
    except OSError:
        return None


def manifest_outputs(text: str | bytes, name: str) -> dict[str, str] | None:
    """The files an `$export` manifest lists (file name -> resource type), or None when `text` is
    not a manifest; a listed output without type and url is a usage error naming the manifest."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("output"), list):
        return None
    listed: dict[str, str] = {}
    for item in data["output"]:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or not isinstance(item.get("url"), str):
            raise UsageError(f"the manifest {name} has an output item without type and url: {str(item)[:120]}")
        listed[unquote(Path(urlparse(item["url"]).path).name)] = item["type"]
    return listed
