"""The ids, dates, dateTimes and times allcare reads of a FHIR resource: decoded as plain text, checked afterwards.

Each form keeps the meaning msgspec's pattern gave it when the decoder checked every value (the same
pattern and message), except that a final line break is no longer let through; the check of many
resources at once finds exactly what the check of each resource alone finds.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from allcare.interop.fhir.shapes import (
    Date,
    DateTime,
    Format,
    Id,
    MedicationRequest,
    Observation,
    Time,
    format_problem,
    format_problems,
)

FORMS = {"id": Id, "date": Date, "dateTime": DateTime, "time": Time}
# Text near the forms: digits, their separators, letters, other digits and line breaks.
NEAR = st.text(alphabet="0123456789-T:.Z+ abz\n\u0660", max_size=30)
SAMPLES = st.one_of(NEAR, st.sampled_from(["2024", "2024-03", "2024-03-01", "2024-03-01T08:30", "2024-03-01T08:30:00.5Z",
                                            "2024-03-01T08:30:00+01:00", "08:30", "08:30:15.25", "wbc-1.a", "x" * 64,
                                            "x" * 65, ""]))


def form(alias) -> Format:
    return next(meta for meta in alias.__metadata__ if isinstance(meta, Format))


@pytest.mark.parametrize("name", FORMS)
@given(value=SAMPLES)
def test_each_form_accepts_what_the_decoders_pattern_accepted_less_a_final_line_break(name, value):
    checked = form(FORMS[name])
    pattern = checked.message.removeprefix("Expected 'str' matching regex '").removesuffix("'")
    try:
        msgspec.json.decode(msgspec.json.encode(value), type=Annotated[str, msgspec.Meta(pattern=pattern)])
        before = True
    except msgspec.ValidationError:
        before = False
    assert checked.valid(value) == (before and not value.endswith("\n"))


@pytest.mark.parametrize("name", FORMS)
@given(values=st.lists(SAMPLES, max_size=8))
def test_many_values_at_once_are_valid_exactly_when_each_one_is(name, values):
    checked = form(FORMS[name])
    assert checked.all_valid(values) == all(checked.valid(value) for value in values)


@given(st.lists(st.tuples(SAMPLES, SAMPLES, st.none() | SAMPLES), max_size=12))
def test_many_resources_at_once_give_the_problems_of_each_alone(fields):
    resources = [Observation(id=rid, effectiveDateTime=when, issued=issued) for rid, when, issued in fields]
    alone = [(n, *problem) for n, r in enumerate(resources) if (problem := format_problem(r)) is not None]
    assert format_problems(resources) == alone


def test_a_problem_deep_in_a_resource_is_named_by_its_path():
    decoded = msgspec.json.decode(b'{"id": "m", "dosageInstruction": [{}, {"timing": {"repeat": {"boundsPeriod": '
                                  b'{"start": "2024-01-01", "end": "2024/02/01"}}}}]}',
                                  type=MedicationRequest)
    assert format_problem(decoded) == ("dosageInstruction[1].timing.repeat.boundsPeriod.end", form(DateTime).message)
    assert format_problems([Observation(id="o"), decoded]) == [(1, "dosageInstruction[1].timing.repeat.boundsPeriod.end",
                                                                form(DateTime).message)]
