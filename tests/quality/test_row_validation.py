import datetime as dt
import json

from quality.contracts import FUTURE_TOLERANCE, SOCIAL_POSTS, EntityContract, Field
from quality.row_validation import RawRecord, validate

CONTRACT = EntityContract(
    "src", "things", ("id",),
    {"id": Field("string", True, 10), "n": Field("int"), "x": Field("float"), "ok": Field("bool"), "meta": Field("json")},
)


def _one(payload: object) -> RawRecord:
    return RawRecord(7, payload if isinstance(payload, str) else dict(payload))  # type: ignore[arg-type]


def test_accepts_and_coerces_lossless_values() -> None:
    result = validate([_one({"id": "a", "n": "12", "x": "1.5", "ok": "yes", "meta": {"k": 1}})], CONTRACT, "f.jsonl")
    assert result.rejected == []
    assert result.accepted[0] == {"id": "a", "n": 12, "x": 1.5, "ok": True, "meta": '{"k": 1}', "_extra": None}


def test_each_rule_names_source_file_row_field_and_rule() -> None:
    cases = {
        '{"id": "a", "n": "lots"}': ("wrong_type", "n"),
        '{"id": "abcdefghijkl"}': ("max_length", "id"),
        '{"n": 1}': ("missing_required", "id"),
        '{"id": "a", "x": "12k"}': ("wrong_type", "x"),
        '{"id": "a", "ok": "maybe"}': ("wrong_type", "ok"),
        '{"id": "a", broken': ("malformed_json", None),
        '[1, 2]': ("malformed_json", None),
    }
    for line, (rule, field) in cases.items():
        result = validate([RawRecord(7, line)], CONTRACT, "drop/f.jsonl")
        assert result.accepted == [], line
        rejection = result.rejected[0]
        assert (rejection.rule, rejection.field) == (rule, field), line
        assert rejection.raw == line
        assert rejection.error.startswith("src/things drop/f.jsonl row 7: ")
        assert f"[rule: {rule}]" in rejection.error
        if field:
            assert f"field '{field}'" in rejection.error


def test_unknown_fields_are_kept_and_reported_as_drift() -> None:
    rows = [_one({"id": "a", "location": "Berlin"}), _one({"id": "b", "location": "Paris", "n": 1})]
    result = validate(rows, CONTRACT, "f")
    assert len(result.accepted) == 2
    assert json.loads(result.accepted[0]["_extra"]) == {"location": "Berlin"}
    assert result.drift.new_fields == {"location": 2}
    assert "x" in result.drift.missing_fields and "n" not in result.drift.missing_fields


def test_csv_rows_with_surplus_cells_are_rejected() -> None:
    result = validate([RawRecord(3, {"id": "a", None: ["extra"]})], CONTRACT, "f.csv")
    assert result.rejected[0].rule == "malformed_csv"


def test_counts_reconcile_on_mixed_input() -> None:
    lines = [json.dumps({"post_id": str(i), "platform": "x", "handle": "h", "created_at": "2026-01-01"}) for i in range(50)]
    lines += ["{not json", json.dumps({"post_id": "z", "platform": "x", "handle": "h", "created_at": "t", "reactions": "lots"})]
    result = validate([RawRecord(i, line) for i, line in enumerate(lines, 1)], SOCIAL_POSTS, "f")
    assert result.rows_in == len(lines) == len(result.accepted) + len(result.rejected)
    assert len(result.rejected) == 2


STAMPED = EntityContract(
    "src", "events", ("id",),
    {"id": Field("string", True, 10), "at": Field("timestamp", True, 40, FUTURE_TOLERANCE),
     "due": Field("timestamp", False, 40)},
)
PULL = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def _stamped(at: object, due: object = None) -> tuple[str, str | None] | None:
    """(rule, field) of the rejection, or None when the row is accepted."""
    result = validate([RawRecord(4, {"id": "e", "at": at, "due": due})], STAMPED, "api/events", as_of=PULL)
    if result.accepted:
        return None
    return result.rejected[0].rule, result.rejected[0].field


def test_timestamps_must_read_as_iso_8601() -> None:
    for ok in ("2026-07-01T11:00:00Z", "2026-07-01T13:00:00+02:00", "2026-07-01 11:00:00", "2026-06-30",
               dt.datetime(2026, 7, 1, 9, 30)):
        assert _stamped(ok) is None, ok
    for bad in ("31/12/2026 10:00", "yesterday", "2026-13-01T00:00:00Z", "1719835200"):
        assert _stamped(bad) == ("bad_timestamp", "at"), bad
    assert _stamped(1719835200) == ("wrong_type", "at")


def test_a_stamp_past_the_tolerance_after_the_pull_is_quarantined() -> None:
    assert _stamped((PULL + FUTURE_TOLERANCE).isoformat()) is None  # clock skew, local time
    assert _stamped((PULL + FUTURE_TOLERANCE + dt.timedelta(seconds=1)).isoformat()) == ("future_timestamp", "at")
    assert _stamped("9999-12-31T23:59:59Z") == ("future_timestamp", "at")
    assert _stamped("9999-12-31T23:59:59-05:00") == ("bad_timestamp", "at")  # beyond datetime's range
    # A planned date may lie far ahead; it still has to be a date.
    assert _stamped("2026-07-01T11:00:00Z", due="2027-03-31") is None
    assert _stamped("2026-07-01T11:00:00Z", due="end of Q1") == ("bad_timestamp", "due")


def test_an_accepted_timestamp_keeps_the_text_as_sent() -> None:
    result = validate([RawRecord(1, {"id": "e", "at": "2026-07-01T13:00:00+02:00"})], STAMPED, "f", as_of=PULL)
    assert result.accepted[0]["at"] == "2026-07-01T13:00:00+02:00"
    rejection = validate([RawRecord(9, {"id": "e", "at": "9999-01-01"})], STAMPED, "api/events", as_of=PULL).rejected[0]
    assert rejection.error.startswith("src/events api/events row 9: field 'at' is '9999-01-01', more than 1 day")
    assert rejection.error.endswith("[rule: future_timestamp]")
