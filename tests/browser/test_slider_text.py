"""The kernel-free slider figures are legible on a phone and on a laptop (no built book needed).

Each of the book's five slider figures is built from the real data through the package's public
functions (as the chapters build them: FD001's training windows, one batch of the last-cycle
baseline's residuals, the committed decisions analysis), written into a page of its own whose column
is as wide as the book's (about 320 px for the figure's box in a 390 px window, 688 px in a 1280 px
one) and opened in Chromium. The SVG lays itself out in units of about one CSS px
(js/slider_figure.js), so every text must render at 9 px or more, lie inside the SVG, overlap no
other text, and the controls must still redraw the figure.
"""

from __future__ import annotations

import html

import numpy as np
import pytest
from browser_support import DESKTOP, PHONE, SCREENSHOTS, readout, set_control

from amnl_utils.book.interactive import (
    cost_figure,
    cost_payload,
    cost_readout,
    figure_id,
    gradient_density_figure,
    gradient_density_payload,
    gradient_density_readout,
    schedule_explorer_figure,
    schedule_explorer_payload,
    schedule_explorer_readout,
    w_max_figure,
    w_max_payload,
    w_max_readout,
)
from amnl_utils.core.constants import R_MAX, W_MAX
from amnl_utils.core.weights import SCHEDULES, ramp

#: Smallest rendered font size allowed (CSS px) and the slack for "inside the SVG" and overlaps (px).
MIN_PX = 9.0
SLACK = 0.5

#: A page with the book's column: the figure's box is about 320 px wide at 390 px, 688 px at 1280 px.
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body style="margin:0;padding:8px 35px;font-size:16px;font-family:system-ui,sans-serif">
<div style="max-width:688px"{hidden}>
{figure}
</div></body></html>
"""

#: Every non-empty SVG text of a figure: its rendered font size (CSS px: font size x the SVG's scale) and box.
TEXTS = """(fid) => {
  const svg = document.getElementById(fid + '-svg');
  const s = svg.getScreenCTM().a, r = svg.getBoundingClientRect();
  return {svg: [r.left, r.top, r.right, r.bottom], texts: [...svg.querySelectorAll('text')]
    .filter(t => t.textContent.trim())
    .map(t => { const b = t.getBoundingClientRect();
      return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * s,
              box: [b.left, b.top, b.right, b.bottom]}; })};
}"""


def quadratic_weight(y, max_rul=R_MAX, w_max=W_MAX):
    """§14.2's reader schedule: 1 + (w_max - 1) * ramp(y)^2 (as chapters/14_2_linear_decay.ipynb defines it)."""
    return 1.0 + (w_max - 1.0) * ramp(np.asarray(y, dtype=float), max_rul) ** 2


def _first_batch() -> tuple[np.ndarray, np.ndarray]:
    """§14.3's batch: 256 FD001 training windows and the last-cycle baseline's residuals (cycles)."""
    from amnl_utils.analysis.baseline import baseline_batch  # lazy: torch loads only here
    from amnl_utils.cmapss.prepare import prepare  # lazy: reads the C-MAPSS files

    *_, y_batch, residual = baseline_batch(prepare("FD001", seed=0))
    return y_batch, residual


@pytest.fixture(scope="module")
def figures(cmapss_dir) -> dict:
    """name -> (the SliderFigure, its payload, the Python twin of its readout: (payload, values) -> text),
    each built as its chapter builds it."""
    from amnl_utils.book.findings.decisions import load_or_none  # lazy: reads the decisions analysis file
    from amnl_utils.cmapss.prepare import prepare  # lazy: reads the C-MAPSS files

    y_train = prepare("FD001").y_train
    y_batch, residual = _first_batch()
    quad = [*SCHEDULES, quadratic_weight]
    out = {
        "gradient-density": (gradient_density_figure(y_train), gradient_density_payload(y_train),
                             lambda p, v: gradient_density_readout(p, v["w_max"], v["test_rul"])),
        "schedule-explorer": (schedule_explorer_figure(y_train), schedule_explorer_payload(y_train),
                              lambda p, v: schedule_explorer_readout(p, v["picked"], v["w_max"], v["test_rul"])),
        "schedule-explorer-quadratic": (
            schedule_explorer_figure(y_train, quad, name="schedule explorer with a quadratic",
                                     picked=["linear", "quadratic"]),
            schedule_explorer_payload(y_train, quad),
            lambda p, v: schedule_explorer_readout(p, v["picked"], v["w_max"], v["test_rul"])),
        "w-max-ceiling": (w_max_figure(y_batch, residual), w_max_payload(y_batch, residual),
                          lambda p, v: w_max_readout(p, v["w_max"])),
    }
    decisions = load_or_none()  # §14.5 shows the slider once a subset has 2 seeds
    if decisions is not None and any(len(v) >= 2 for v in decisions["seeds"].values()):
        out["failure-cost"] = (cost_figure(decisions, k=10), cost_payload(decisions),
                               lambda p, v: cost_readout(p, v["k"]))
    return out


NAMES = ["gradient-density", "schedule-explorer", "schedule-explorer-quadratic", "w-max-ceiling", "failure-cost"]
VIEWPORTS = [PHONE, DESKTOP]


@pytest.fixture
def open_figure(browser, figures, tmp_path):
    """``open_figure(name, viewport, hidden=False)`` -> (page, figure id, errors): the figure alone in a
    page with the book's column; ``hidden`` puts it in a ``display:none`` box (a closed toggle)."""
    contexts = []

    def _open(name: str, viewport: dict, hidden: bool = False):
        if name not in figures:
            pytest.skip("the decisions grid has fewer than 2 seeds per subset: §14.5 shows no cost slider")
        fig = figures[name][0]
        path = tmp_path / f"{name}.html"
        path.write_text(PAGE.format(title=html.escape(fig.name), figure=fig.html,
                                    hidden=' id="box" style="display:none"' if hidden else ""), encoding="utf-8")
        context = browser.new_context(viewport=viewport, device_scale_factor=1)
        contexts.append(context)
        errors: list[str] = []

        def route(r) -> None:  # the page is one file: anything else would be a fetch from the network
            if r.request.url.startswith(("file:", "data:", "about:")):
                r.continue_()
            else:
                errors.append(f"network: {r.request.url}")
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.goto(path.as_uri(), wait_until="load")
        return page, figure_id(fig.name), errors

    yield _open
    for c in contexts:
        c.close()


def settle(page) -> None:
    """Let a resize reach the figure (ResizeObserver, then the redraw it schedules for the next frame)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))))")


def _overlap(a: list[float], b: list[float]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > SLACK and min(a[3], b[3]) - max(a[1], b[1]) > SLACK


def problems(page, fid: str) -> list[str]:
    """What is wrong with the figure's SVG text: too small, outside the SVG, on top of another text."""
    got = page.evaluate(TEXTS, fid)
    left, top, right, bottom = got["svg"]
    texts, bad = got["texts"], []
    assert texts, f"{fid}: the SVG has no text: the figure did not draw"
    for t in texts:
        if t["px"] < MIN_PX:
            bad.append(f"{t['text']!r} renders at {t['px']:.1f} px")
        x0, y0, x1, y1 = t["box"]
        if x0 < left - SLACK or y0 < top - SLACK or x1 > right + SLACK or y1 > bottom + SLACK:
            bad.append(f"{t['text']!r} at {[round(v) for v in t['box']]} leaves the SVG {[round(v) for v in got['svg']]}")
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if _overlap(a["box"], b["box"]):
                bad.append(f"{a['text']!r} overlaps {b['text']!r}")
    return bad


def shoot(page, fid: str, name: str) -> None:
    """The figure's picture, artifacts/screenshots/slider-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(f"#{fid}").screenshot(path=str(SCREENSHOTS / f"slider-{name}.png"))


def viewbox(page, fid: str) -> list[float]:
    return [float(v) for v in page.locator(f"#{fid}-svg").get_attribute("viewBox").split()]


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390px", "1280px"])
@pytest.mark.parametrize("name", NAMES)
def test_svg_text_is_legible_inside_and_apart(open_figure, name: str, viewport: dict) -> None:
    page, fid, errors = open_figure(name, viewport)
    width = page.locator(f"#{fid}").bounding_box()["width"]
    assert (width < 330) if viewport["width"] < 400 else (680 < width <= 760), f"the figure's box is {width:.0f} px wide"
    shoot(page, fid, f"{name}-{viewport['width']}")  # first: a failure's picture helps
    bad = problems(page, fid)
    assert not bad, f"{name} at {viewport['width']} px:\n" + "\n".join(bad[:20])
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    assert not errors, errors


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["390px", "1280px"])
def test_extreme_settings_keep_the_text_legible_and_apart(open_figure, figures, viewport: dict) -> None:
    """The ends of the sliders (the longest numbers, the test point at either side, the steepest
    curves) keep every text legible, inside the SVG and apart."""
    for name, settings in (("gradient-density", {"w_max": 5, "test_rul": 125}),
                           ("gradient-density", {"w_max": 1, "test_rul": 0}),
                           ("w-max-ceiling", {"w_max": 5}), ("schedule-explorer", {"w_max": 5, "test_rul": 150}),
                           ("failure-cost", {"k": 50}), ("failure-cost", {"k": 2})):
        if name not in figures:  # no cost slider before the decisions grid has 2 seeds
            continue
        page, fid, errors = open_figure(name, viewport)
        for control, value in settings.items():
            set_control(page, fid, control, value)
        bad = problems(page, fid)
        assert not bad, f"{name} at {viewport['width']} px, {settings}:\n" + "\n".join(bad[:20])
        assert not errors, errors


@pytest.mark.parametrize("name", NAMES)
def test_controls_redraw_the_figure_at_phone_width(open_figure, figures, name: str) -> None:
    page, fid, errors = open_figure(name, PHONE)
    _, payload, twin = figures[name]
    svg = page.locator(f"#{fid}-svg")
    before, first = svg.inner_html(), readout(page, fid)
    if name == "failure-cost":
        values = {"k": 37}
    elif name == "w-max-ceiling":
        values = {"w_max": 4.2}
    else:
        values = {"w_max": 4.2, "test_rul": 60}
    for control, value in values.items():
        set_control(page, fid, control, value)
    if name.startswith("schedule-explorer"):
        names = [e["name"] for e in payload["schedules"]]
        picked = [n for n in names if page.locator(f"#{fid}-{n}").is_checked()]
        set_control(page, fid, picked[0], False)  # untick the first ticked schedule
        values["picked"] = picked[1:]
        assert svg.locator("polyline[data-series^=weight-]").count() == len(picked) - 1
    assert readout(page, fid) == twin(payload, values) != first
    assert svg.inner_html() != before, "the controls moved but the SVG was not redrawn"
    assert not problems(page, fid)
    assert not errors, errors


@pytest.mark.parametrize("name", ["gradient-density", "failure-cost"])
def test_the_figure_follows_the_window_and_a_hidden_figure_lays_out_when_shown(open_figure, name: str) -> None:
    """Laptop -> phone -> laptop: the viewBox follows the SVG's width (1 unit ~ 1 CSS px), the text
    stays legible; a figure drawn while hidden (width 0, e.g. in a closed toggle) re-lays out when shown."""
    page, fid, errors = open_figure(name, DESKTOP)
    wide = viewbox(page, fid)
    page.set_viewport_size(PHONE)
    settle(page)
    narrow = viewbox(page, fid)
    assert narrow[2] < 330 < wide[2] and not problems(page, fid)
    scale = page.evaluate("(id) => document.getElementById(id).getScreenCTM().a", f"{fid}-svg")
    assert scale == pytest.approx(1.0, abs=0.02)
    page.set_viewport_size(DESKTOP)
    settle(page)
    assert viewbox(page, fid) == wide and not problems(page, fid)
    assert not errors, errors
    hidden, fid, errors = open_figure(name, PHONE, hidden=True)
    hidden.evaluate("() => { document.getElementById('box').style.display = 'block'; }")
    settle(hidden)
    assert not problems(hidden, fid)
    assert not errors, errors


@pytest.mark.parametrize("name", NAMES)
def test_every_window_width_from_a_small_phone_to_a_laptop(open_figure, name: str) -> None:
    """Between the two viewports the layout switches (wide above about 560 px of SVG, narrow below)
    and the viewBox stops following the SVG below 240 units: no width in between may break the rules."""
    page, fid, errors = open_figure(name, {"width": 320, "height": 800})
    for width in (320, 360, 414, 480, 560, 600, 640, 700, 768, 900):
        page.set_viewport_size({"width": width, "height": 800})
        settle(page)
        bad = problems(page, fid)
        assert not bad, f"{name} at {width} px:\n" + "\n".join(bad[:20])
    assert not errors, errors
