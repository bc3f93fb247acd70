"""Shared pieces of the scenario schema: strict models, durations, points."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from scenarios.durations import parse_duration


class Strict(BaseModel):
    """Frozen model that rejects unknown fields with a did-you-mean hint.

    Numbers must be finite: no field of a scenario or an experiment spec
    gives a meaning to ``.inf`` or ``.nan`` (an unbounded value is written
    by leaving the field out, or ``null`` where documented).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, ser_json_inf_nan="constants",
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        allowed = set(cls.model_fields)
        allowed |= {f.alias for f in cls.model_fields.values() if f.alias}
        for key in data:
            if key not in allowed:
                raise unknown_key(key, sorted(allowed))
        return data


def unknown_key(key: object, allowed: list[str]) -> PydanticCustomError:
    """Error for a key that is not a field, naming the closest allowed one."""
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(allowed)}"
    return PydanticCustomError(
        "unknown_field", "unknown field{hint}", {"key": str(key), "hint": hint}
    )


def reference_error(path: str, message: str) -> PydanticCustomError:
    """Error about a cross-reference (a name used but not defined) at ``path``."""
    return PydanticCustomError("reference", "{message}", {"path": path, "message": message})


def _duration(value: Any) -> float:
    return parse_duration(value)


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"expected a duration greater than 0, got {value:g} min")
    return value


#: Minutes, written as a number or as text such as ``"8 min"`` or ``"2 h"``.
Duration = Annotated[float, BeforeValidator(_duration)]
#: A duration that must be strictly positive.
PositiveDuration = Annotated[float, BeforeValidator(_duration), AfterValidator(_positive)]


def _finite_point(value: tuple[float, float]) -> tuple[float, float]:
    x, y = value
    if x != x or y != y or abs(x) == float("inf") or abs(y) == float("inf"):
        raise ValueError(f"expected finite coordinates in km, got {value!r}")
    return value


#: ``[x_km, y_km]`` on the scenario's plane.
Point = Annotated[tuple[float, float], AfterValidator(_finite_point)]
