"""A console logger that prints one line per step and materialisation instead of every event.

Dagster's event log keeps the full record either way; this only shapes what a
person watching `hub run` (or a run's stdout in the UI) reads.
"""

import logging
import sys

import dagster as dg


def _row_count(event: dg.DagsterEvent) -> str:
    materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
    meta = materialization.metadata
    parts = []
    for name in ("dagster/row_count", "accepted", "quarantined"):
        if name in meta:
            parts.append(f"{name.split('/')[-1]}={meta[name].value:,}")
    return " ".join(parts)


class ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event: dg.DagsterEvent | None = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        line = None
        if event is None:
            if record.levelno >= logging.WARNING:
                line = f"  ! {step}: {meta.get('orig_message', record.getMessage())}"
        elif event.event_type_value == "STEP_START":
            line = f"- {step} ..."
        elif event.event_type_value == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else step
            line = f"    {key:<42} {_row_count(event)}"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data  # type: ignore[assignment]
            if not evaluation.passed:  # type: ignore[union-attr]
                line = f"    check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}: failed ({evaluation.severity.value})"  # type: ignore[union-attr]
        elif event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error  # type: ignore[union-attr]
            line = f"  ✗ {step} failed: {error.message.strip() if error else 'unknown error'}"
        elif event.event_type_value == "STEP_SUCCESS":
            seconds = event.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
            line = f"  ✓ {step} ({seconds:.1f}s)"
        if line:
            print(line, file=sys.stdout, flush=True)


@dg.logger(description="Concise progress: one line per step, materialisation and failed check.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("hub", level=logging.DEBUG)  # step events arrive at DEBUG
    logger.addHandler(ProgressHandler())
    return logger
