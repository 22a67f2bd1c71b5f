"""Structured logs: JSON lines with the request id. Secrets never reach a log call.

The portal's own lines go through structlog; uvicorn's (start, stop, a request that crashed) and any
other library's warnings go through the standard library's logging, which `uvicorn_log_config` formats
with the same processors, so that with `PORTAL_LOG_JSON` every line on stderr is one JSON object.

A module that logs takes its logger from `get_logger(name)`, never from `structlog.get_logger`: importing
structlog costs a command ~0.05 s (it loads rich's tracebacks and pygments), so a process that never makes
a logger never imports it. `configure_logging` called before any logger exists (as every command does)
is applied when the first one is made.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import structlog
    from structlog.typing import FilteringBoundLogger

# The configuration chosen before structlog was imported: (level, json).
_chosen: tuple[str, bool] | None = None


def get_logger(name: str) -> FilteringBoundLogger:
    """The logger a module logs through (structlog's, configured as this process chose)."""
    import structlog

    global _chosen
    if _chosen is not None:
        level, json = _chosen
        _chosen = None
        _configure(level, json)
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was configured: a test runner
    (or a daemonising wrapper) may swap it out and close the old one."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _shared_processors() -> list[structlog.types.Processor]:
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Log at `level` and above, as JSON lines or for people, to stderr: now if structlog is loaded,
    otherwise when the first logger is made."""
    global _chosen
    if "structlog" in sys.modules:
        _chosen = None
        _configure(level, json)
    else:
        _chosen = (level, json)


def _configure(level: str, json: bool) -> None:
    import structlog

    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*_shared_processors(), structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


def uvicorn_log_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn (its `log_config`): its lines, and every other library's
    warnings, as the portal's JSON lines, with the logger's name (`uvicorn.error` for its start and stop)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": _json_formatter}},
        "handlers": {"stderr": {"()": _stderr_handler, "formatter": "json"}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def _json_formatter() -> logging.Formatter:
    import structlog

    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def _stderr_handler() -> logging.Handler:
    return logging.StreamHandler(_CurrentStderr())
