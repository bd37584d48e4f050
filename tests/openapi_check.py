"""Validate real responses against the served OpenAPI 3.1 document (JSON Schema 2020-12)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

URI = "urn:trialsearch:openapi"


class OpenAPIChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        Draft202012Validator.check_schema({"$ref": f"{URI}#/components/schemas/Hit"})
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(URI, resource)

    def validate(self, path: str, status: int, body: Any) -> None:
        """Check a body against the schema documented for that path and status."""
        op = self.document["paths"][path]["get"]
        assert str(status) in op["responses"], f"{path} does not document HTTP {status}"
        content = op["responses"][str(status)].get("content", {}).get("application/json", {})
        schema = content.get("schema")
        if schema is None:
            return
        ref = schema["$ref"].replace("#", f"{URI}#", 1)
        validator = Draft202012Validator({"$ref": ref}, registry=self.registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
