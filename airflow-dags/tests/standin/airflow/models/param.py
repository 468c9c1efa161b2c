class Param:
    """A DAG param: a default and a JSON-schema description (type, minimum, ...)."""

    def __init__(self, default=None, description=None, **schema):
        self.value = default
        self.description = description
        self.schema = schema
        kind = schema.get("type")
        checks = {"string": str, "integer": int, "boolean": bool}
        if kind is not None and kind not in checks:
            raise TypeError(f"stand-in Param: unsupported type {kind!r}")
        if kind is not None and not isinstance(default, checks[kind]):
            raise TypeError(f"Param default {default!r} is not of type {kind}")
        if kind == "integer" and isinstance(default, bool):
            raise TypeError(f"Param default {default!r} is not of type integer")
