"""Reading a file's C2PA manifest (content credentials) and what its validation says.

The summary is what a person asks of an image: who signed it and when, what the claim generator
was, which actions made it (and whether by a trained algorithm), and from which ingredients. The
state is one word:

- ``valid``: signature, hashes and chain check out and the signer chains to a trusted root
  (the SDK's trust list or ``ATELIER_C2PA_TRUST_ANCHORS``);
- ``untrusted``: all checks out but the signer is not on a trust list
  (``signingCredential.untrusted``);
- ``invalid``: something failed, e.g. ``assertion.dataHash.mismatch`` when the pixels were
  changed after signing; ``status`` lists the reader's codes.

Nothing is fetched: no remote manifest, no OCSP; a reader sees only the file.
"""

import io
import json
import logging

from gallery.provenance.credentials import c2pa_installed, trust_anchors
from gallery.provenance.signing import MIME_TYPES, image_format

logger = logging.getLogger(__name__)

# What the SDK's validation_state becomes.
_STATES = {"Trusted": "valid", "Valid": "untrusted", "Invalid": "invalid"}


def content_credentials_read(data: bytes) -> dict:
    """The manifest summary and validation of an encoded image: ``{"present": False}`` when it
    carries none (or the SDK is not installed: ``"available": False``)."""
    if not c2pa_installed():
        return {"available": False, "present": False}
    fmt = image_format(data)
    if fmt is None:
        return {"available": True, "present": False}
    import c2pa

    config = {"verify": {"ocsp_fetch": False, "remote_manifest_fetch": False}}
    anchors = trust_anchors()
    if anchors:
        config["trust"] = {"user_anchors": anchors}
    try:
        with c2pa.Context.from_dict(config) as context:
            reader = c2pa.Reader.try_create(MIME_TYPES[fmt], io.BytesIO(data), None, context)
            if reader is None:
                return {"available": True, "present": False}
            with reader:
                store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        # A manifest that cannot even be parsed is there, and is not to be believed.
        return {
            "available": True,
            "present": True,
            "state": "invalid",
            "status": [{"code": "manifest.unreadable", "explanation": str(exc)[:500]}],
        }
    return {"available": True, "present": True, **manifest_summary(store)}


def manifest_summary(store: dict) -> dict:
    """The active manifest of a manifest store (the SDK's JSON), summed up."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "") or {}
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = results.get("failure") or []
    state = _STATES.get(store.get("validation_state") or "", "invalid")
    if state == "valid" and failures:
        state = "invalid"
    actions = _actions(active)
    made_by = _made_by(active, manifests)
    signature = active.get("signature_info") or {}
    generator = (active.get("claim_generator_info") or [{}])[0]
    return {
        "state": state,
        "validation_state": store.get("validation_state") or "",
        "status": [{"code": item.get("code", ""), "explanation": item.get("explanation", "")} for item in failures],
        "claim_generator": " ".join(str(part) for part in (generator.get("name"), generator.get("version")) if part)
        or active.get("claim_generator", ""),
        "title": active.get("title") or "",
        "actions": actions,
        "digital_source_type": made_by[0],
        "software_agent": made_by[1] or _first(actions, "software_agent"),
        "ingredients": [
            {
                "title": item.get("title") or "",
                "format": item.get("format") or "",
                "relationship": item.get("relationship") or "",
                "has_manifest": bool(item.get("active_manifest")),
            }
            for item in active.get("ingredients") or []
        ],
        "signer": signature.get("common_name") or "",
        "issuer": signature.get("issuer") or "",
        "algorithm": (signature.get("alg") or "").lower(),
        "signed_at": signature.get("time") or _first(actions, "when"),
    }


def _actions(manifest: dict) -> list[dict]:
    found = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            agent = action.get("softwareAgent")
            if isinstance(agent, dict):
                agent = " ".join(str(part) for part in (agent.get("name"), agent.get("version")) if part)
            found.append(
                {
                    "action": action.get("action", ""),
                    "digital_source_type": action.get("digitalSourceType") or "",
                    "software_agent": agent or "",
                    "when": action.get("when") or "",
                }
            )
    return found


def _first(actions: list[dict], name: str) -> str:
    return next((action[name] for action in actions if action[name]), "")


def _made_by(manifest: dict, manifests: dict, depth: int = 0) -> tuple[str, str]:
    """The digital source type and software agent of the action that made the image: in this
    manifest, else in its ingredients' (a conversion keeps its original's), walking down parents."""
    for action in _actions(manifest):
        if action["digital_source_type"]:
            return action["digital_source_type"], action["software_agent"]
    if depth < 8:
        for item in manifest.get("ingredients") or []:
            parent = manifests.get(item.get("active_manifest") or "")
            if parent:
                found = _made_by(parent, manifests, depth + 1)
                if found[0]:
                    return found
    return "", ""
