"""ISO 3166 country codes: which three-letter ids a state may take, and no one else.

A state is identified by its ISO 3166-1 alpha-3 code, or by its ISO 3166-3 code once it
has ceased to exist (the Soviet Union is `SUN`, Yugoslavia `YUG`). The user-assigned
ranges of ISO 3166-1 serve entities ISO does not cover (`XKX` for Kosovo). The codes come
from `pycountry`, which follows the ISO 3166 Maintenance Agency, so a new or withdrawn
code arrives with a dependency update rather than an edit to a hand-typed list.
"""

from __future__ import annotations

import functools

#: ISO 3166-1 ranges reserved for user assignment (inclusive), per clause 8.1.3.
USER_ASSIGNED = (("AAA", "AAZ"), ("QMA", "QZZ"), ("XAA", "XZZ"), ("ZZA", "ZZZ"))
USER_ASSIGNED_TEXT = ", ".join(f"{low}–{high}" for low, high in USER_ASSIGNED)


@functools.cache
def _assigned() -> dict[str, str]:
    """ISO code → the country's name: current (3166-1) and former (3166-3) countries.

    Loaded on first use: only validation needs it, and pycountry reads its JSON lazily.
    """
    import pycountry

    names = {country.alpha_3: country.name for country in pycountry.historic_countries}
    names.update({country.alpha_3: country.name for country in pycountry.countries})
    return names


def iso_country(code: str) -> str | None:
    """The name of the current or former country whose alpha-3 code this is, if any."""
    return _assigned().get(code.upper())


def is_user_assigned(code: str) -> bool:
    upper = code.upper()
    return (
        len(upper) == 3
        and upper.isascii()
        and upper.isalpha()
        and any(low <= upper <= high for low, high in USER_ASSIGNED)
    )


def is_state_code(code: str) -> bool:
    """Whether a state may take this id: an ISO 3166-1/-3 code or a user-assigned one."""
    return iso_country(code) is not None or is_user_assigned(code)
