"""amnl_utils.interactive: payloads agree with amnl_utils, HTML is deterministic and offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from amnl_utils.gradients import gradient_density, gradient_share
from amnl_utils.interactive import (
    Slider,
    figure_id,
    figure_script,
    gradient_density_figure,
    gradient_density_payload,
    gradient_density_readout,
    gradient_density_shares,
    gradient_density_widget,
    slider_figure,
    w_max_figure,
    w_max_gradients,
    w_max_payload,
    w_max_readout,
)
from amnl_utils.losses import amnl_weighted_mse

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
    for name in ("gradient_density", "w_max_ceiling"):
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
