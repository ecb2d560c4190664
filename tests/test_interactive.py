"""amnl_utils.book.interactive: payloads agree with amnl_utils, HTML is deterministic and offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from amnl_utils.analysis.gradients import gradient_density, gradient_share, per_sample_gradient, tail_ratio
from amnl_utils.book.interactive.ceiling import (
    w_max_figure,
    w_max_gradients,
    w_max_payload,
    w_max_readout,
    w_max_widget,
)
from amnl_utils.book.interactive.framework import Checkbox, Slider, figure_id, figure_script, slider_figure
from amnl_utils.book.interactive.gradient_density import (
    gradient_density_figure,
    gradient_density_payload,
    gradient_density_readout,
    gradient_density_shares,
    gradient_density_widget,
)
from amnl_utils.book.interactive.schedule_explorer import (
    schedule_explorer_figure,
    schedule_explorer_payload,
    schedule_explorer_readout,
    schedule_explorer_values,
    schedule_explorer_widget,
)
from amnl_utils.core.constants import R_MAX
from amnl_utils.core.losses import amnl_weighted_mse
from amnl_utils.core.weights import SCHEDULES, from_shape, linear_weight, mean_weight, ramp, schedule

SVG_NS = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def y() -> np.ndarray:
    """Synthetic capped training RUL: a ramp per engine, many at the cap, integer cycles."""
    rng = np.random.default_rng(0)
    lives = rng.integers(130, 360, size=40)
    return np.concatenate([np.minimum(np.arange(n)[::-1], 125) for n in lives]).astype(np.float32)


def payload_of(html: str, fid: str) -> dict:
    m = re.search(rf'<script type="application/json" id="{fid}-data">(.*?)</script>', html, re.S)
    assert m, "payload script missing"
    return json.loads(m.group(1))


@pytest.mark.parametrize("w_max", [1.0, 1.5, 2.0, 3.7, 5.0])
def test_gradient_density_shares_match_gradients_module(y, w_max) -> None:
    payload = gradient_density_payload(y)
    ref = gradient_density(y, w_max=w_max)
    mse, amnl = gradient_density_shares(payload, w_max)
    np.testing.assert_allclose(mse, ref["mse"], atol=1e-9)
    np.testing.assert_allclose(amnl, ref["weighted"], atol=1e-7)
    np.testing.assert_array_equal(payload["counts"], ref["counts"])
    np.testing.assert_allclose(payload["edges"], ref["edges"])
    # the near-failure numbers of the figure are gradient_share's "RUL ≤ 30" bucket
    near = payload["near"]
    total = np.sum(payload["counts"]) + (w_max - 1) * np.sum(payload["ramp_sums"])
    share = gradient_share(y, w_max=w_max)["RUL ≤ 30"]
    assert near["count"] / np.sum(payload["counts"]) == pytest.approx(share["samples"])
    assert (near["count"] + (w_max - 1) * near["ramp_sum"]) / total == pytest.approx(share["gradient"], abs=1e-7)


def test_w_max_1_curves_coincide(y) -> None:
    mse, amnl = gradient_density_shares(gradient_density_payload(y), 1.0)
    np.testing.assert_array_equal(mse, amnl)
    assert "coincide" in gradient_density_readout(gradient_density_payload(y), 1.0, 5)


def test_readout_numbers_of_the_spec(y) -> None:
    p = gradient_density_payload(y)
    assert "weight 1.96, pull 1.96\u00d7 a healthy (RUL \u2265 125) sample" in gradient_density_readout(p, 2.0, 5)
    assert "weight 4.84" in gradient_density_readout(p, 5.0, 5)
    assert "weight 1.00, pull 1.00\u00d7" in gradient_density_readout(p, 3.0, 125)
    assert "coincide" not in gradient_density_readout(p, 2.0, 5)


def test_y_top_leaves_the_capped_bin_off_scale(y) -> None:
    p = gradient_density_payload(y)
    mse, _ = gradient_density_shares(p, 1.0)
    _, amnl5 = gradient_density_shares(p, 5.0)
    assert 100 * max(mse[:-1].max(), amnl5[:-1].max()) < p["y_top"] < 100 * mse[-1]


def test_figure_is_deterministic_and_ids_derive_from_the_name(y) -> None:
    a, b = gradient_density_figure(y), gradient_density_figure(y)
    assert a.html == b.html
    assert a._repr_html_() == a.html and repr(a) == "SliderFigure('gradient density')"
    fid = figure_id("gradient density")
    assert fid == "amnl-gradient-density"
    ids = re.findall(r'\bid="([^"]+)"', a.html)
    assert ids and all(i.startswith(fid) for i in ids), ids
    assert len(ids) == len(set(ids))
    assert not re.search(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-", a.html), "random-looking id in the HTML"
    other = gradient_density_figure(y, name="FD002 density")
    assert 'id="amnl-fd002-density"' in other.html and 'id="amnl-gradient-density"' not in other.html


def test_figure_html_is_offline_and_carries_its_data(y) -> None:
    fig = gradient_density_figure(y)
    urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", fig.html))
    assert urls <= {SVG_NS}, f"external URLs in the figure: {urls - {SVG_NS}}"
    assert "<script src" not in fig.html and "@import" not in fig.html
    assert figure_script() in fig.html
    spec = payload_of(fig.html, "amnl-gradient-density")
    assert spec["draw"] == "gradient_density"
    assert spec["payload"] == json.loads(json.dumps(gradient_density_payload(y)))
    for name in ("w_max", "test_rul"):
        assert f'id="amnl-gradient-density-{name}"' in fig.html
    assert 'min="1" max="5" step="0.1" value="2"' in fig.html
    # the initial readout (shown without JavaScript) is the Python one
    assert gradient_density_readout(gradient_density_payload(y), 2.0, 5.0) in fig.html


def test_payload_cannot_close_the_script_tag() -> None:
    fig = slider_figure("x", [Slider("a", "a", 0, 1, 0.1, 0.5)], {"s": "</script><script>alert(1)"},
                        "gradient_density", title="t")
    assert "</script><script>alert" not in fig.html
    assert payload_of(fig.html, "amnl-x")["payload"]["s"] == "</script><script>alert(1)"  # JSON "<\\/" is "</"


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="identifier"):
        Slider("w max", "w", 0, 1, 0.1, 0.5)
    with pytest.raises(ValueError, match="min <= value <= max"):
        Slider("w", "w", 1, 5, 0.1, 7)
    with pytest.raises(ValueError, match="no letters or digits"):
        figure_id("--")
    with pytest.raises(ValueError, match="negative"):
        gradient_density_payload(np.array([-1.0, 3.0]))


def test_script_ships_with_the_package_and_parses() -> None:
    js = figure_script()
    for name in ("gradient_density", "w_max_ceiling", "schedule_explorer"):
        assert f'register("{name}"' in js
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    subprocess.run([node, "--check", "-"], input=js, text=True, check=True)


# --------------------------------------------------------------------------- §14.3


@pytest.fixture(scope="module")
def batch() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = np.minimum(rng.integers(0, 300, size=256), 125).astype(np.float64)
    return y, rng.normal(0.0, 15.0, size=256)


@pytest.mark.parametrize("w_max", [1.0, 2.0, 3.0, 5.0])
def test_w_max_gradients_match_the_loss(batch, w_max) -> None:
    y, r = batch
    payload = w_max_payload(y, r)
    _, _, grad = amnl_weighted_mse(y + r, y, w_max=w_max)
    np.testing.assert_allclose(w_max_gradients(payload, w_max), np.abs(grad), rtol=1e-8, atol=0)
    assert payload["hist_edges"][-1] >= w_max_gradients(payload, 5.0).max() - 1e-9


def test_w_max_readout_and_figure(batch) -> None:
    y, r = batch
    payload = w_max_payload(y, r)
    g = np.abs(amnl_weighted_mse(y + r, y, w_max=3.0)[2])
    ratio = np.quantile(g, 0.99) / np.median(g)
    assert f"p99/median of the per-sample |gradient| = {ratio:.2f}." in w_max_readout(payload, 3.0)
    fig = w_max_figure(y, r)
    assert fig.html == w_max_figure(y, r).html
    assert 'id="amnl-w-max-ceiling-w_max"' in fig.html
    assert payload_of(fig.html, "amnl-w-max-ceiling")["draw"] == "w_max_ceiling"
    with pytest.raises(ValueError, match="one shape"):
        w_max_payload(y, r[:-1])


# --------------------------------------------------------------------------- live widget


def test_live_widget_has_stable_text_and_follows_its_sliders(y) -> None:
    pytest.importorskip("ipywidgets")
    box = gradient_density_widget(y)
    assert repr(box) == "LiveFigure('gradient density'): sliders w_max and test RUL"
    assert box._repr_mimebundle_()["text/plain"] == repr(box)
    (w_slider, t_slider), readout, image = box.children[0].children, box.children[1], box.children[2]
    assert "weight 1.96" in readout.value and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    first = image.value
    w_slider.value = 1.0
    assert "coincide" in readout.value and image.value != first
    w_slider.value, t_slider.value = 5.0, 5
    assert "weight 4.84" in readout.value


def test_w_max_widget_has_stable_text_and_follows_its_slider(batch) -> None:
    pytest.importorskip("ipywidgets")
    y, r = batch
    box = w_max_widget(y, r)
    assert repr(box) == "LiveFigure('w_max ceiling'): slider w_max"
    slider, readout, image = box.children
    payload = w_max_payload(y, r)
    assert readout.value == html_escape_free(w_max_readout(payload, 2.0))
    first = image.value
    slider.value = 5.0
    assert f"= {tail_ratio(w_max_gradients(payload, 5.0)):.2f}." in readout.value and image.value != first


# --------------------------------------------------------------------------- §14.2 schedule explorer


def quadratic_weight(y, max_rul=125.0, w_max=2.0):
    return 1.0 + (w_max - 1.0) * ramp(np.asarray(y, dtype=float), max_rul) ** 2


@pytest.mark.parametrize("w_max", [1.0, 2.0, 3.3, 5.0])
def test_explorer_twin_matches_gradients_and_weights(y, w_max) -> None:
    payload = schedule_explorer_payload(y)
    values = schedule_explorer_values(payload, w_max, 20.0)
    labels = list(gradient_share(y))
    for name in SCHEDULES:
        ref = gradient_share(y, w_max=w_max, name=name)
        np.testing.assert_allclose(values[name]["shares"], [ref[b]["gradient"] for b in labels], atol=1e-9)
        assert values[name]["mean_weight"] == pytest.approx(mean_weight(y, w_max=w_max, name=name), abs=1e-9)
    # the test point's weight at whole cycles, against the schedule functions themselves
    for t in (0, 7, 49, 50, 51, 124, 125, 150):
        v = schedule_explorer_values(payload, w_max, t)
        for name in SCHEDULES:
            assert v[name]["weight"] == pytest.approx(schedule(name)(np.array([float(t)]), w_max=w_max)[0], abs=1e-9)


def test_explorer_takes_a_readers_schedule(y) -> None:
    payload = schedule_explorer_payload(y, ["linear", quadratic_weight])
    assert [e["name"] for e in payload["schedules"]] == ["linear", "quadratic"]
    v = schedule_explorer_values(payload, 3.0, 25)
    assert v["quadratic"]["weight"] == pytest.approx(1 + 2 * 0.8**2)
    w = quadratic_weight(y, w_max=3.0)
    near = y <= 30
    assert v["quadratic"]["shares"][0] == pytest.approx(w[near].sum() / w.sum(), abs=1e-9)
    with pytest.raises(ValueError, match="unique"):
        schedule_explorer_payload(y, ["linear", "linear"])


def test_explorer_readout(y) -> None:
    payload = schedule_explorer_payload(y)
    text = schedule_explorer_readout(payload, ["step", "linear"], 2.0, 20)
    # listed in payload order; linear at RUL 20: 1 + (1 - 20/125) = 1.84; step: 2 below 50 cycles
    assert text.startswith("w_max = 2.0, test engine at RUL 20. Its weight: linear 1.84, step 2.00.")
    near = gradient_share(y, w_max=2.0)["RUL \u2264 30"]["gradient"]
    assert f"linear {100 * near:.1f}%" in text
    assert "No schedule picked" in schedule_explorer_readout(payload, [], 2.0, 20)


def test_explorer_figure_html(y) -> None:
    fig = schedule_explorer_figure(y, picked=["linear", "exponential"])
    assert fig.html == schedule_explorer_figure(y, picked=["linear", "exponential"]).html
    fid = figure_id("schedule explorer")
    ids = re.findall(r'\bid="([^"]+)"', fig.html)
    assert all(i.startswith(fid) for i in ids) and len(ids) == len(set(ids))
    for name in SCHEDULES:
        assert f'type="checkbox" id="{fid}-{name}" data-name="{name}"' in fig.html
    assert f'id="{fid}-linear" data-name="linear" checked>' in fig.html
    assert f'id="{fid}-sigmoid" data-name="sigmoid">' in fig.html
    spec = payload_of(fig.html, fid)
    assert spec["draw"] == "schedule_explorer"
    assert spec["payload"] == json.loads(json.dumps(schedule_explorer_payload(y)))
    payload = schedule_explorer_payload(y)
    assert html_escape_free(schedule_explorer_readout(payload, ["linear", "exponential"], 2.0, 20)) in fig.html
    urls = set(re.findall(r"[a-z]+://[^\s\"'<>)]+", fig.html))
    assert urls <= {SVG_NS}


def html_escape_free(text: str) -> str:
    import html

    return html.escape(text)


def test_checkbox_validation() -> None:
    with pytest.raises(ValueError, match="identifier"):
        Checkbox("a b", "a")
    with pytest.raises(ValueError, match="#rrggbb"):
        Checkbox("a", "a", color="green")
    with pytest.raises(ValueError, match="unique"):
        slider_figure("x", [Slider("a", "a", 0, 1, 0.1, 0.5)], {}, "gradient_density", title="t",
                      checkboxes=[Checkbox("a", "a")])


def test_explorer_widget_has_stable_text_and_follows_its_controls(y) -> None:
    pytest.importorskip("ipywidgets")
    box = schedule_explorer_widget(y)
    assert repr(box) == "LiveFigure('schedule explorer'): schedule checkboxes, sliders w_max and test RUL"
    checks, (w_slider, t_slider) = box.children[0].children, box.children[1].children
    readout, image = box.children[2], box.children[3]
    assert "linear 1.84" in readout.value and image.value[:8] == b"\x89PNG\r\n\x1a\n"
    first = image.value
    for c in checks:
        c.value = c.description.startswith("linear")
    assert "exponential" not in readout.value and image.value != first
    w_slider.value, t_slider.value = 5.0, 0
    assert "Its weight: linear 5.00." in readout.value


# --------------------------------------------------------------------------- the script's maths (node)


def run_js(expression: str, payload: dict) -> object:
    """Evaluate ``expression`` in node after loading the figure script; ``d`` is the payload and
    ``M`` the script's maths (``AMNLFig.math``). Returns the JSON-decoded value."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    program = (
        "global.window = {};\n" + figure_script()
        + f"\nconst d = {json.dumps(payload)};\nconst M = window.AMNLFig.math;\n"
        + f"process.stdout.write(JSON.stringify({expression}));\n"
    )
    out = subprocess.run([node, "-"], input=program, text=True, capture_output=True, check=True)
    return json.loads(out.stdout)


def test_js_weight_is_the_python_ramp() -> None:
    """The JS twin of the ramp, of ``from_shape`` and of the linear weight, against
    ``amnl_utils.core.weights`` on a grid of RUL values (both sides of the cap, the kink at R_max)
    and of w_max values."""
    ys = np.unique(np.r_[np.linspace(0.0, 300.0, 121), 0.5, 124.9, 125.0, 125.1, 62.5]).tolist()
    w_maxes = [1.0, 1.5, 2.0, 3.7, 5.0, 12.0]
    js = run_js(
        f"{{ramp: {json.dumps(ys)}.map(y => M.ramp(y, {R_MAX})), "
        f"weight: {json.dumps(w_maxes)}.map(w => {json.dumps(ys)}.map(y => M.weight(y, w, {R_MAX}))), "
        f"shape: {json.dumps(w_maxes)}.map(w => [0, 0.25, 1].map(s => M.fromShape(s, w)))}}", {})
    np.testing.assert_allclose(js["ramp"], ramp(np.array(ys), R_MAX), rtol=0, atol=1e-15)
    for w, row, shaped in zip(w_maxes, js["weight"], js["shape"]):
        np.testing.assert_allclose(row, linear_weight(np.array(ys), max_rul=R_MAX, w_max=w), rtol=0, atol=1e-15)
        np.testing.assert_allclose(shaped, from_shape(np.array([0.0, 0.25, 1.0]), w), rtol=0, atol=1e-15)


def test_js_gradient_density_shares_match_python(y) -> None:
    payload = gradient_density_payload(y)
    js = run_js("[1, 2, 4.3].map(w => M.gradientDensityShares(d, w))", payload)
    for w, got in zip([1, 2, 4.3], js):
        mse, amnl = gradient_density_shares(payload, w)
        np.testing.assert_allclose(got["mse"], mse, rtol=1e-12)
        np.testing.assert_allclose(got["amnl"], amnl, rtol=1e-12)


def test_js_w_max_maths_match_python(batch) -> None:
    y, r = batch
    payload = w_max_payload(y, r)
    js = run_js("[1, 2, 5].map(w => [M.wMaxGradients(d, w), M.wMaxReadout(d, w)])", payload)
    for w, (grads, text) in zip([1, 2, 5], js):
        np.testing.assert_allclose(grads, per_sample_gradient(y, r, w_max=w), rtol=1e-9)
        assert text == w_max_readout(payload, w)


def test_js_explorer_maths_match_python(y) -> None:
    payload = schedule_explorer_payload(y, [*SCHEDULES, quadratic_weight])
    settings = [(2.0, 20, ["linear", "step"]), (5.0, 0, list(SCHEDULES) + ["quadratic"]), (1.0, 60, ["sigmoid"]),
                (3.4, 140, [])]
    js = run_js(
        f"{json.dumps(settings)}.map(([w, t, p]) => [M.scheduleValues(d, w, t), M.scheduleReadout(d, p, w, t)])",
        payload,
    )
    for (w, t, picked), (values, text) in zip(settings, js):
        ref = schedule_explorer_values(payload, w, t)
        for name, v in ref.items():
            assert values[name]["weight"] == pytest.approx(v["weight"], abs=1e-12)
            assert values[name]["mean_weight"] == pytest.approx(v["mean_weight"], abs=1e-12)
            np.testing.assert_allclose(values[name]["shares"], v["shares"], rtol=1e-12)
        assert text == schedule_explorer_readout(payload, picked, w, t)
