"""The base of every settings section: strict pydantic models (unknown keys, inf and nan refused)
and the value types they share. Each layer defines the sections it owns on top of this."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

PosInt = Annotated[int, Field(gt=0)]
PosFloat = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(gt=0, lt=1)]


class Section(BaseModel):
    # inf and nan pass no range check a run can use (train.lr=.inf): refuse them everywhere
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
