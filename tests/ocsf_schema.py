"""What an OCSF event class requires, resolved from the schema's source files, and a check of events against it.

Resolved: the class's `extends` chain (data_security_finding -> finding -> base_event), child attributes over
the parent's; an attribute's `requirement` and `enum` (the dictionary's enum merged under each class's own);
for each object an event carries, its own `extends` chain, required attributes and `at_least_one` constraints.
Not resolved: attributes that only `$include`d profiles add (an event that applies no profile, as ours, is not
bound by them), extensions, and types below objects (a string is not checked to be a string_t)."""
from __future__ import annotations

import json
from pathlib import Path

ENUMS = ("activity_id", "severity_id", "status_id")
OBJECTS = ("metadata", "product", "finding_info", "resource_details", "data_security", "classifier_details", "group")


def _load(root: Path, rel: str) -> dict:
    return json.loads((root / rel).read_text(encoding="utf-8"))


def _chain(root: Path, folder: str, name: str) -> list[dict]:
    """A class or object and its ancestors, the root ancestor first."""
    found = []
    while name and name != "object":
        hits = list((root / folder).rglob(f"{name}.json"))
        if not hits:
            break
        doc = json.loads(hits[0].read_text(encoding="utf-8"))
        found.append(doc)
        name = doc.get("extends")
    return found[::-1]


def _merged(chain: list[dict]) -> dict[str, dict]:
    attrs: dict[str, dict] = {}
    for doc in chain:
        for key, spec in doc.get("attributes", {}).items():
            if key != "$include":
                attrs[key] = {**attrs.get(key, {}), **spec}
    return attrs


def resolve(root: Path, event_class: str = "data_security_finding") -> dict:
    """The requirements of one event class (and the objects it carries) as plain JSON."""
    dictionary = _load(root, "dictionary.json")["attributes"]
    chain = _chain(root, "events", event_class)
    attrs = _merged(chain)
    category = _load(root, "categories.json")["attributes"][chain[-2].get("category", "findings")]["uid"]
    enums = {}
    for name in ENUMS:
        values = dict(dictionary.get(name, {}).get("enum", {}))
        for doc in chain:
            values.update(doc.get("attributes", {}).get(name, {}).get("enum", {}))
        enums[name] = sorted(int(k) for k in values)
    objects = {}
    for name in OBJECTS:
        ochain = _chain(root, "objects", name)
        oattrs = _merged(ochain)
        objects[name] = {
            "required": sorted(k for k, v in oattrs.items() if v.get("requirement") == "required"),
            "at_least_one": [sorted(d["constraints"]["at_least_one"]) for d in ochain
                             if "at_least_one" in d.get("constraints", {})],
        }
    return {
        "ocsf_version": _load(root, "version.json")["version"],
        "class": event_class, "class_uid": category * 1000 + chain[-1]["uid"], "category_uid": category,
        "required": sorted(k for k, v in attrs.items() if v.get("requirement") == "required"),
        "enums": enums,
        "object_of": {k: dictionary[k]["type"] for k in sorted(attrs) if dictionary.get(k, {}).get("type") in OBJECTS},
        "objects": objects,
    }


def problems(event: dict, spec: dict) -> list[str]:
    """What in one event breaks the resolved requirements (empty: nothing)."""
    out = [f"missing required {k}" for k in spec["required"] if event.get(k) in (None, "", [])]
    for name in ENUMS:
        if name in event and event[name] not in spec["enums"][name]:
            out.append(f"{name} {event[name]!r} not in {spec['enums'][name]}")
    for key, obj in spec["object_of"].items():
        values = event.get(key)
        for value in values if isinstance(values, list) else [values] if values is not None else []:
            out += [f"{key}: {p}" for p in _object_problems(value, obj, spec)]
    return out


_NESTED = {"metadata": {"product": "product"}, "data_security": {"classifier_details": "classifier_details"},
           "resource_details": {"group": "group"}, "finding_info": {"product": "product"}}


def _object_problems(value: dict, obj: str, spec: dict) -> list[str]:
    rules = spec["objects"][obj]
    out = [f"missing required {k}" for k in rules["required"] if value.get(k) in (None, "", [])]
    out += [f"none of {group}" for group in rules["at_least_one"] if not any(k in value for k in group)]
    for key, inner in _NESTED.get(obj, {}).items():
        if key in value:
            out += [f"{key}: {p}" for p in _object_problems(value[key], inner, spec)]
    return out
