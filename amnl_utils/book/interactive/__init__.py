"""The interactive figures: the kernel-free framework (:mod:`.framework`, with ``js/``) and the
figures of §14.1 (:mod:`.gradient_density`), §14.2 (:mod:`.schedule_explorer`), §14.3
(:mod:`.ceiling`) and §14.5 (:mod:`.cost_slider`). ``from amnl_utils.book import interactive`` gives
the public names of all five."""

from .ceiling import (
    draw_w_max_ceiling,
    w_max_figure,
    w_max_gradients,
    w_max_payload,
    w_max_readout,
    w_max_widget,
)
from .cost_slider import cost_figure, cost_payload, cost_readout
from .framework import (
    W_MAX_RANGE,
    Checkbox,
    Slider,
    SliderFigure,
    figure_id,
    figure_script,
    slider_figure,
)
from .gradient_density import (
    draw_gradient_density,
    gradient_density_figure,
    gradient_density_payload,
    gradient_density_readout,
    gradient_density_shares,
    gradient_density_widget,
)
from .schedule_explorer import (
    draw_schedule_explorer,
    schedule_explorer_figure,
    schedule_explorer_payload,
    schedule_explorer_readout,
    schedule_explorer_values,
    schedule_explorer_widget,
)
