"""Social display names completed from handles, and what that does to matching."""

import duckdb
import pytest

from identity.handles import name_from_handle
from warehouse.dbt_plugin import register_udfs


@pytest.mark.parametrize(
    ("display", "handle", "expected"),
    [
        ("Christopher B.", "christopher_brown", "Christopher|Brown"),
        ("Tracy B.", "barlow.tracy65", "Tracy|Barlow"),
        ("Christine", "christinemiller204", "Christine|Miller"),
        # A nickname shown, the formal name in the handle: the longer form is cut off first.
        ("Dan C.", "danielchambers682", "Dan|Chambers"),
        ("Tommy J.", "thomasjoyce490", "Tommy|Joyce"),
        # Surname first with an initial: kept in the order shown (matching handles swaps).
        ("Turner L.", "leah_turner", "Turner|Leah"),
        # A Chinese given name with the surname in pinyin beside it.
        ("东欣", "dongxinchen340", "东欣|Chen"),
    ],
)
def test_handle_completes_a_short_display_name(display: str, handle: str, expected: str) -> None:
    assert name_from_handle(display, handle) == expected


@pytest.mark.parametrize(
    ("display", "handle"),
    [
        ("Christine Ball", "christineball204"),  # already complete
        ("Shannon H.", "the_shannon330"),  # the handle has no surname
        ("Bob S.", "bob_jones"),  # the initial disagrees with the handle
        ("Al B.", "alfonso_brown"),  # "al" + "fonsobrown" is no surname for Al B.
        ("金燕", "yan_jin"),  # a full Chinese name
        ("帆博", "the_fanbo682"),
        ("Anna", None),
        (None, "anna_smith"),
        ("Anna", "12345"),
    ],
)
def test_handle_leaves_names_it_cannot_complete(display: str | None, handle: str | None) -> None:
    assert name_from_handle(display, handle) is None


def test_udf_is_registered_for_dbt() -> None:
    con = duckdb.connect()
    register_udfs(con)
    rows = con.sql("select hub_name_from_handle(d, h) from (values ('Bob S.', 'bob_smith'), "
                   "('Bob Smith', 'bob_smith')) t(d, h)").fetchall()
    assert rows == [("Bob|Smith",), (None,)]
