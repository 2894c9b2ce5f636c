"""Six-field cron expressions checked field by field, against the ranges of the service that runs them.

A pattern check (six words) lets ``0 0 25 * * *`` or ``0 0 3 * * 0`` through, and the service refuses them at
``pulumi up`` — or, worse, reads them differently. The two services here document different weekday ranges:

- Function Compute timer triggers (retraining schedules): ``Seconds Minutes Hours Day-of-month Month
  Day-of-week``; seconds and minutes 0-59, hours 0-23, day 1-31 (``?`` allowed), month 1-12 or JAN-DEC,
  **weekday 1-7 or MON-SUN** (``?`` allowed). https://help.aliyun.com/document_detail/171746.html
- EAS cron scalers (``ScaleJobs[].Schedule``): six fields, second minute hour day month weekday; the documented
  example ``* * * * * 0,6`` (weekends) puts Sunday at **0**, so weekdays are read as 0-6 or SUN-SAT; 7 is not
  documented and is refused (the less forgiving reading).
  https://help.aliyun.com/zh/pai/developer-reference/api-eas-2021-07-01-updateservicecronscaler
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] means low + i
    question: bool = False  # "?" (no specific value) allowed

    def describe(self) -> str:
        named = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{named}"

    def number(self, text: str) -> int | None:
        if _ASCII_DIGITS.fullmatch(text):  # not str.isdigit: it takes '²' and '٨', which int() or the cloud refuse
            return int(text)
        upper = text.upper()
        return self.low + self.names.index(upper) if upper in self.names else None


_ASCII_DIGITS: Final = re.compile(r"[0-9]{1,4}")
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_COMMON: Final = (
    CronField("second", 0, 59),
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day", 1, 31, question=True),
    CronField("month", 1, 12, _MONTHS),
)
FC_TIMER: Final = (*_COMMON, CronField("weekday", 1, 7, ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"), True))
EAS_CRON_SCALER: Final = (*_COMMON, CronField("weekday", 0, 6, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")))


def _item_problem(field: CronField, item: str) -> str | None:
    base, slash, step = item.partition("/")
    if slash and not (_ASCII_DIGITS.fullmatch(step) and int(step) >= 1):
        return f"the step {step!r} is not a whole number of at least 1"
    if base == "*" or (base == "?" and field.question and not slash):
        return None
    low_text, dash, high_text = base.partition("-")
    bounds = [field.number(low_text)] + ([field.number(high_text)] if dash else [])
    if any(value is None or not field.low <= value <= field.high for value in bounds):
        return f"{base!r} is outside {field.describe()}"
    if dash and bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        return f"the range {base!r} runs backwards"
    return None


def cron_problem(expression: str, fields: Sequence[CronField]) -> str | None:
    """What is wrong with ``expression`` for a service whose fields are ``fields``, or None."""
    parts = expression.split()
    if len(parts) != len(fields):
        return f"has {len(parts)} fields, not {len(fields)} ({' '.join(f.name for f in fields)})"
    for field, part in zip(fields, parts, strict=True):
        for item in part.split(","):
            problem = _item_problem(field, item)
            if problem is not None:
                return f"the {field.name} field {part!r}: {problem}"
    return None
