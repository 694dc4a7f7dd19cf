"""How numbers read in the app: short, aligned, the same in every pane."""

from __future__ import annotations

from collections.abc import Sequence

SPARKS = " ▁▂▃▄▅▆▇█"


def duration(seconds: float | None) -> str:
    """``0ms``, ``850µs``, ``12ms``, ``1.4s``, ``2m05s``."""
    if seconds is None:
        return "-"
    if seconds <= 0:
        return "0ms"
    # each spelling is tried in turn, and a value that rounds up to the next one's
    # threshold (59.6 s: 60s) is left to that one (1m00s)
    if seconds < 0.001 and (text := f"{seconds * 1e6:.0f}µs") != "1000µs":
        return text
    if seconds < 0.01 and (text := f"{seconds * 1000:.1f}ms") != "10.0ms":
        return text
    if seconds < 1 and (text := f"{seconds * 1000:.0f}ms") != "1000ms":
        return text
    if seconds < 10 and (text := f"{seconds:.1f}s") != "10.0s":
        return text
    if seconds < 60 and (text := f"{seconds:.0f}s") != "60s":
        return text
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def name(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut in the middle: ids that share a start
    (``warehouse-queue``, ``warehouse-dlq``) differ at the end, so both ends stay
    (``ware…ueue``, ``ware…-dlq``)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[:width - 1 - tail] + "…" + (text[-tail:] if tail else "")


def first_fitting(width: int, *spellings: str) -> str:
    """The first of ``spellings`` (longest first) that fits ``width`` cells; when none does,
    the last cut in the middle, so what is cut shows it is."""
    for text in spellings:
        if len(text) <= width:
            return text
    return name(spellings[-1], width)


def count(value: float | None) -> str:
    """``7``, ``950``, ``12.3k``, ``4.1M``."""
    if value is None:
        return "-"
    value = float(value)
    if abs(value) < 1000:
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k" if abs(value) < 10_000 else f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


def rate(per_second: float | None) -> str:
    """``12/s``, ``0.4/s``, ``5.1k/s``."""
    if per_second is None:
        return "-"
    if 0 < per_second < 10:
        return f"{per_second:.1f}/s"
    return f"{count(round(per_second))}/s"


def percent(share: float | None) -> str:
    if share is None:
        return "-"
    if share >= 0.9995:
        return "100%"
    return f"{share * 100:.1f}%"


def speed(factor: float) -> str:
    """A speed factor in two significant figures, never in exponent form (97, not 1e+02)."""
    return f"{factor:.2g}" if factor < 10 else f"{factor:.0f}"


def sim_clock(t: float) -> str:
    """Simulated time on the status line: ``t=12.3s`` or ``t=2:05.0``."""
    # rounded before minutes are split off: 119.97 s rounds up to the next minute (2:00.0),
    # where rounding the seconds alone would read 1:60.0
    t = round(t, 1)
    if t < 60:
        return f"{t:5.1f}s"
    minutes, rest = divmod(t, 60)
    return f"{int(minutes)}:{rest:04.1f}"


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` squeezed into ``width`` cells (the largest value of each group kept)."""
    if width <= 0:
        return ""
    values = list(values)
    if not values:
        return " " * width
    if len(values) > width:
        groups = [values[(i * len(values)) // width:((i + 1) * len(values)) // width]
                  for i in range(width)]
        values = [max(g) if g else 0 for g in groups]
    top = max(values)
    if top <= 0:
        return (SPARKS[1] * len(values)).rjust(width)
    cells = []
    for value in values:
        level = 0 if value <= 0 else max(1, round(value / top * (len(SPARKS) - 1)))
        cells.append(SPARKS[level])
    return "".join(cells).rjust(width)
