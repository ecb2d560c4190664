/* Kernel-free slider figures of the AMNL book (amnl_utils.book.interactive).
 *
 * A figure is a <div id=ID class="amnl-fig"> holding range inputs (ID-<slider>), optional
 * checkboxes (ID-<checkbox>), an <svg id=ID-svg>, a readout (ID-readout) and a
 * <script type="application/json" id=ID-data> with {"draw": <name>, "payload": {...}}.
 * AMNLFig.mount(ID) reads the controls (numbers for sliders, booleans for checkboxes), clears the
 * SVG and calls the registered draw function (fig, payload, values) on every input event. No
 * network, no dependencies. Every number drawn is computed in Python (amnl_utils); the draw
 * functions only apply the linear-in-w_max formulas of AMNLFig.math, each the twin of a Python
 * function named next to it (tests/test_interactive.py runs both on the same payload).
 *
 * Layout: the viewBox Python writes (720 wide) is the widest layout. mount() draws in the SVG's own
 * width in CSS px (at least MIN_WIDTH), so that one unit is about one px and the text keeps its size
 * on a phone; below NARROW the draw functions stack legends and notes under the plots and make the
 * figure as tall as they need (fig.height). The figure is redrawn when its width changes
 * (tests/browser/test_slider_text.py holds every text to >= 9 px, inside the SVG, apart).
 */
(function (root) {
  "use strict";
  if (root.AMNLFig) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
  var NARROW = 560;     /* SVG width (units ~ px) below which legends and notes go under the plots */
  var MIN_WIDTH = 240;  /* the narrowest layout: a still narrower SVG scales it down */

  function el(parent, tag, attrs, text) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) { if (attrs[k] !== undefined) { node.setAttribute(k, attrs[k]); } }
    if (text !== undefined) { node.textContent = text; }
    parent.appendChild(node);
    return node;
  }

  function scale(d0, d1, r0, r1) {
    var f = function (v) { return r0 + (v - d0) * (r1 - r0) / (d1 - d0); };
    f.d0 = d0; f.d1 = d1; f.r0 = r0; f.r1 = r1;
    return f;
  }

  /* About n round tick values covering [lo, hi]. */
  function ticks(lo, hi, n) {
    var raw = (hi - lo) / Math.max(n, 1);
    var mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
      out.push(Math.round(v / step) * step);
    }
    return out;
  }

  function fmt(v, decimals) { return Number(v).toFixed(decimals); }

  /* The drawing helpers a draw function receives: width and height in units (about px), narrow,
   * the font sizes fs (never below 10 units) and a cache of measured text widths. */
  function Fig(svg, width, height, cache) {
    this.svg = svg; this.width = width; this.height = height; this.cache = cache || {};
    this.narrow = width < NARROW;
    this.fs = this.narrow ? {tick: 10, label: 11, text: 11, small: 10} : {tick: 11, label: 12, text: 11, small: 10};
  }
  Fig.prototype.el = function (tag, attrs, text, parent) { return el(parent || this.svg, tag, attrs, text); };
  Fig.prototype.group = function (attrs) { return el(this.svg, "g", attrs || {}); };
  /* Width of text at a font size (units): measured while the SVG is laid out, else about 0.6 em a character. */
  Fig.prototype.measure = function (text, size) {
    var key = size + "|" + text, w = 0;
    if (this.cache[key]) { return this.cache[key]; }
    var t = el(this.svg, "text", {"font-size": size}, String(text));
    try { w = t.getComputedTextLength(); } catch (e) { w = 0; }
    this.svg.removeChild(t);
    if (w > 0) { this.cache[key] = w; return w; }
    return 0.6 * size * String(text).length;
  };
  /* The first of options (a string or a list) no wider than width, else the last. */
  Fig.prototype.fit = function (options, width, size) {
    options = [].concat(options);
    for (var i = 0; i < options.length - 1; i++) { if (this.measure(options[i], size) <= width) { return options[i]; } }
    return options[options.length - 1];
  };
  /* text broken at spaces into lines no wider than width. */
  Fig.prototype.wrap = function (text, width, size) {
    var words = String(text).split(" "), lines = [], line = "";
    for (var i = 0; i < words.length; i++) {
      var next = line ? line + " " + words[i] : words[i];
      if (line && this.measure(next, size) > width) { lines.push(line); line = words[i]; } else { line = next; }
    }
    return lines.concat([line]);
  };
  /* text on one line if it fits width, else on two broken where the longer line is shortest
   * (a bucket label: "30 < RUL" over "\u2264 80" rather than "30 < RUL \u2264" over "80"). */
  Fig.prototype.wrap2 = function (text, width, size) {
    var words = String(text).split(" "), best = [text], widest = Infinity;
    if (this.measure(text, size) <= width || words.length < 2) { return best; }
    for (var i = 1; i < words.length; i++) {
      var two = [words.slice(0, i).join(" "), words.slice(i).join(" ")];
      var w = Math.max(this.measure(two[0], size), this.measure(two[1], size));
      if (w <= widest) { best = two; widest = w; }
    }
    return best;
  };
  /* text wrapped to width where `like` (the same words, each as wide or wider: the text with its
   * widest numbers) breaks, so that lines do not jump while a slider moves; drawn from (x, y) down,
   * step apart. Returns the y under the last line. */
  Fig.prototype.paragraph = function (x, y, text, like, width, attrs, step, parent) {
    var words = String(text).split(" "), k = 0, fig = this;
    var lines = like.split(" ").length === words.length ? this.wrap(like, width, attrs["font-size"]) : this.wrap(text, width, attrs["font-size"]);
    lines.forEach(function (line, i) {
      var n = line.split(" ").length, a = {x: x, y: y + step * i};
      for (var key in attrs) { a[key] = attrs[key]; }
      el(parent || fig.svg, "text", a, words.slice(k, k + n).join(" "));
      k += n;
    });
    return y + step * lines.length;
  };
  /* Round ticks on [lo, hi] (at most about 6) whose labels stay apart along span units. */
  Fig.prototype.fitTicks = function (lo, hi, span, decimals) {
    var fig = this;
    for (var n = 6; n > 2; n--) {
      var t = ticks(lo, hi, n), widest = 0;
      t.forEach(function (v) { widest = Math.max(widest, fig.measure(fmt(v, decimals), fig.fs.tick)); });
      if (t.length < 2 || span * (t[1] - t[0]) / (hi - lo) >= widest + 12) { return t; }
    }
    return ticks(lo, hi, 2);
  };
  /* A plot area: box {left, top, right, bottom} in units, x/y domains, labels (a string, or a list
   * of ever shorter ones: the first that fits is drawn); xlabelDy moves the x label down. */
  Fig.prototype.axes = function (o) {
    var fig = this, fs = this.fs, g = this.group({"class": "amnl-axes"});
    var x = scale(o.x[0], o.x[1], o.left, o.right);
    var y = scale(o.y[0], o.y[1], o.bottom, o.top);
    var xt = o.xticks || this.fitTicks(o.x[0], o.x[1], o.right - o.left, o.xdecimals || 0);
    var yt = o.yticks || ticks(o.y[0], o.y[1], o.bottom - o.top < 150 ? 4 : 5);
    var yw = 0;
    yt.forEach(function (v) {
      var s = fmt(v, o.ydecimals || 0);
      el(g, "line", {x1: o.left, x2: o.right, y1: y(v), y2: y(v), stroke: "#000", "stroke-opacity": 0.08});
      el(g, "text", {x: o.left - 6, y: y(v) + 0.36 * fs.tick, "text-anchor": "end", "font-size": fs.tick, fill: "#333"}, s);
      yw = Math.max(yw, fig.measure(s, fs.tick));
    });
    xt.forEach(function (v) {
      el(g, "line", {x1: x(v), x2: x(v), y1: o.bottom, y2: o.bottom + 4, stroke: "#333"});
      el(g, "text", {x: x(v), y: o.bottom + 6 + fs.tick, "text-anchor": "middle", "font-size": fs.tick, fill: "#333"},
         fmt(v, o.xdecimals || 0));
    });
    el(g, "line", {x1: o.left, x2: o.right, y1: o.bottom, y2: o.bottom, stroke: "#333"});
    el(g, "line", {x1: o.left, x2: o.left, y1: o.top, y2: o.bottom, stroke: "#333"});
    /* the x label under the plot's middle, moved sideways as far as needed to stay in the SVG */
    var xl = this.fit(o.xlabel || "", this.width - 8, fs.label), half = this.measure(xl, fs.label) / 2;
    el(g, "text", {x: Math.min(Math.max((o.left + o.right) / 2, 4 + half), this.width - 4 - half),
                   y: o.bottom + 36 + (o.xlabelDy || 0), "text-anchor": "middle", "font-size": fs.label, fill: "#111"}, xl);
    /* the y label left of the tick labels (in a wide layout 44 units left of the axis, as always) */
    var lx = o.left - 10 - yw - 0.3 * fs.label;
    lx = Math.max(this.narrow ? lx : Math.min(lx, o.left - 44), 0.8 * fs.label + 2);
    el(g, "text", {x: 0, y: 0, "text-anchor": "middle", "font-size": fs.label, fill: "#111",
                   transform: "translate(" + fmt(lx, 1) + "," + ((o.top + o.bottom) / 2) + ") rotate(-90)"},
       this.fit(o.ylabel || "", o.bottom - o.top + 16, fs.label));
    return {x: x, y: y, g: g, box: o};
  };
  /* A polyline through (xs[i], ys[i]); values are clamped to the y domain. */
  Fig.prototype.curve = function (ax, xs, ys, attrs) {
    var lo = Math.min(ax.y.d0, ax.y.d1), hi = Math.max(ax.y.d0, ax.y.d1);
    var pts = xs.map(function (xv, i) {
      var yv = Math.min(Math.max(ys[i], lo), hi);
      return fmt(ax.x(xv), 2) + "," + fmt(ax.y(yv), 2);
    }).join(" ");
    var a = {points: pts, fill: "none", "stroke-width": 2.5, "stroke-linejoin": "round"};
    for (var k in attrs) { a[k] = attrs[k]; }
    return el(this.svg, "polyline", a);
  };
  /* One legend entry: its swatch (box, dot or line) at (x, yy) and its label after it. */
  function legendItem(g, x, yy, it, size) {
    if (it.kind === "box") {
      el(g, "rect", {x: x, y: yy - 6, width: 18, height: 10, fill: it.color, stroke: it.stroke || "none"});
    } else if (it.kind === "dot") {
      el(g, "circle", {cx: x + 9, cy: yy - 1, r: 5, fill: it.color});
    } else {
      el(g, "line", {x1: x, x2: x + 18, y1: yy - 1, y2: yy - 1, stroke: it.color, "stroke-width": 2.5,
                     "stroke-dasharray": it.dash});
    }
    el(g, "text", {x: x + 24, y: yy + 3, "font-size": size, fill: "#222"}, it.label);
  }
  /* A legend, one entry under the other from (x, y), 18 units apart. */
  Fig.prototype.legend = function (x, y, items) {
    var g = this.group({"class": "amnl-legend"}), size = this.fs.text;
    items.forEach(function (it, i) { legendItem(g, x, y + 18 * i, it, size); });
    return g;
  };
  /* Width of a legend of these labels. */
  Fig.prototype.legendWidth = function (labels) {
    var fig = this;
    return 24 + Math.max.apply(null, labels.map(function (s) { return fig.measure(s, fig.fs.text); }).concat([0]));
  };
  /* A legend in rows across width from (x, y), 18 units apart: entry after entry, a new row when
   * one is full. Returns its height. */
  Fig.prototype.legendRows = function (x, y, width, items) {
    var fig = this, g = this.group({"class": "amnl-legend"}), cx = 0, row = 0;
    items.forEach(function (it) {
      var w = 24 + fig.measure(it.label, fig.fs.text);
      if (cx > 0 && cx + w > width) { cx = 0; row += 1; }
      legendItem(g, x + cx, y + 18 * row, it, fig.fs.text);
      cx += w + 16;
    });
    return 18 * (row + 1);
  };

  var draws = {};

  function values(root, id) {
    var v = {};
    var boxes = root.querySelectorAll("input[type=checkbox]");
    for (var j = 0; j < boxes.length; j++) { v[boxes[j].getAttribute("data-name")] = boxes[j].checked; }
    var inputs = root.querySelectorAll("input[type=range]");
    for (var i = 0; i < inputs.length; i++) {
      var inp = inputs[i];
      var name = inp.getAttribute("data-name");
      v[name] = Number(inp.value);
      var out = document.getElementById(id + "-" + name + "-value");
      if (out) { out.textContent = fmt(v[name], Number(inp.getAttribute("data-decimals") || 0)); }
    }
    return v;
  }

  function mount(id) {
    var root = document.getElementById(id);
    if (!root || root.getAttribute("data-mounted") === "1") { return; }
    var spec = JSON.parse(document.getElementById(id + "-data").textContent);
    var draw = draws[spec.draw];
    var svg = document.getElementById(id + "-svg");
    var readout = document.getElementById(id + "-readout");
    if (!draw) { throw new Error("AMNLFig: no draw function named " + spec.draw); }
    /* Python's viewBox is the widest layout; the drawing takes the SVG's width in px (or that
     * default while the SVG is not laid out, e.g. in a closed toggle) and sets the viewBox to it. */
    var vb = svg.getAttribute("viewBox").split(" ").map(Number), cache = {}, drawnAt = -1, pending = false;
    function shownWidth() {
      var w = svg.getBoundingClientRect().width;
      return w > 0 ? w : vb[2];
    }
    function redraw() {
      var px = shownWidth(), w = Math.round(Math.min(Math.max(px, MIN_WIDTH), vb[2]));
      drawnAt = Math.round(px);
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      svg.setAttribute("font-family", FONT);
      var fig = new Fig(svg, w, vb[3], cache);
      readout.textContent = draw(fig, spec.payload, values(root, id)) || "";
      svg.setAttribute("viewBox", "0 0 " + w + " " + Math.ceil(fig.height));
    }
    /* A new width (window, column, a toggle opened) redraws in the next frame, outside the observer's
     * callback (the new height would otherwise trip the observer's loop check). */
    function resized() {
      if (pending) { return; }
      pending = true;
      var later = window.requestAnimationFrame ? function (f) { window.requestAnimationFrame(f); }
                                               : function (f) { window.setTimeout(f, 16); };
      later(function () {
        pending = false;
        if (Math.round(shownWidth()) !== drawnAt) { redraw(); }
      });
    }
    if (typeof window.ResizeObserver === "function") { new window.ResizeObserver(resized).observe(svg); }
    else { window.addEventListener("resize", resized); }
    var inputs = root.querySelectorAll("input[type=range], input[type=checkbox]");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].addEventListener("input", redraw);
      if (inputs[i].type === "checkbox") { inputs[i].addEventListener("change", redraw); }
    }
    root.setAttribute("data-mounted", "1");
    redraw();
  }

  root.AMNLFig = {register: function (name, fn) { draws[name] = fn; }, mount: mount, fmt: fmt,
                  ticks: ticks, scale: scale};

  /* ---------------------------------------------------------------- the book's figures */

  /* ---------------------------------------------------------------- the maths (Python twins) */

  /* The ramp clip(1 - y/R, 0, 1): amnl_utils.core.weights.ramp. */
  function ramp(y, rMax) { return Math.min(Math.max(1 - y / rMax, 0), 1); }
  /* A decay shape in [0, 1] onto weights in [1, wMax]: amnl_utils.core.weights.from_shape. */
  function fromShape(shape, wMax) { return 1 + (wMax - 1) * shape; }
  /* AMNL weight of the linear schedule: amnl_utils.core.weights.linear_weight. */
  function weight(y, wMax, rMax) { return fromShape(ramp(y, rMax), wMax); }
  /* Linear-interpolation quantile of a sorted array (NumPy's default method). */
  function quantile(sorted, q) {
    var pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  }
  /* Per-bin (mse, amnl) gradient shares, fractions: interactive.gradient_density_shares. */
  function gradientDensityShares(d, wMax) {
    var n = d.counts.length, total = 0, wTotal = 0, i, mse = [], amnl = [];
    for (i = 0; i < n; i++) { total += d.counts[i]; wTotal += d.counts[i] + (wMax - 1) * d.ramp_sums[i]; }
    for (i = 0; i < n; i++) {
      mse.push(d.counts[i] / total);
      amnl.push((d.counts[i] + (wMax - 1) * d.ramp_sums[i]) / wTotal);
    }
    return {mse: mse, amnl: amnl, total: total, wTotal: wTotal};
  }
  /* Per-sample |gradient| of the batch: interactive.w_max_gradients. */
  function wMaxGradients(d, wMax) { return d.base.map(function (b, k) { return b * (1 + (wMax - 1) * d.ramp[k]); }); }
  /* p99/median of the per-sample |gradient|: gradients.tail_ratio. */
  function tailRatio(g, q) {
    var sorted = g.slice().sort(function (p, r) { return p - r; });
    return quantile(sorted, q) / quantile(sorted, 0.5);
  }
  /* Per schedule: weight at the test RUL, mean weight, gradient share per bucket:
   * interactive.schedule_explorer_values. */
  function scheduleValues(d, wMax, t) {
    var k = Math.min(Math.max(Math.round(t), 0), d.y_grid.length - 1), out = {};
    d.schedules.forEach(function (e) {
      var total = d.n + (wMax - 1) * e.shape_total;
      out[e.name] = {
        weight: fromShape(e.shape_grid[k], wMax),
        mean_weight: fromShape(e.shape_total / d.n, wMax),
        shares: d.counts.map(function (c, b) { return (c + (wMax - 1) * e.shape_sums[b]) / total; })
      };
    });
    return out;
  }
  /* The explorer's readout: interactive.schedule_explorer_readout. */
  function scheduleReadout(d, picked, wMax, t) {
    var names = d.schedules.map(function (e) { return e.name; })
      .filter(function (n) { return picked.indexOf(n) >= 0; });
    var head = "w_max = " + fmt(wMax, 1) + ", test engine at RUL " + fmt(t, 0) + ".";
    if (!names.length) { return head + " No schedule picked: tick at least one box."; }
    var v = scheduleValues(d, wMax, t);
    function list(f) { return names.map(function (n) { return n + " " + f(v[n]); }).join(", "); }
    return head + " Its weight: " + list(function (x) { return fmt(x.weight, 2); }) +
      ". Mean weight over the training windows: " + list(function (x) { return fmt(x.mean_weight, 2); }) +
      ". Share of the gradient on " + d.buckets[0] + ": " +
      list(function (x) { return fmt(100 * x.shares[0], 1) + "%"; }) + ".";
  }
  /* The w_max figure's readout: interactive.w_max_readout. */
  function wMaxReadout(d, wMax) {
    return "w_max = " + fmt(wMax, 1) + ": weight " + fmt(wMax, 2) + " at RUL 0, 1.00 at RUL \u2265 " +
      fmt(d.max_rul, 0) + "; p99/median of the per-sample |gradient| = " + fmt(tailRatio(wMaxGradients(d, wMax), 0.99), 2) + ".";
  }

  root.AMNLFig.math = {ramp: ramp, fromShape: fromShape, weight: weight, quantile: quantile, gradientDensityShares: gradientDensityShares,
                       wMaxGradients: wMaxGradients, tailRatio: tailRatio, scheduleValues: scheduleValues,
                       scheduleReadout: scheduleReadout, wMaxReadout: wMaxReadout};

  /* Section 14.1. payload (amnl_utils.book.interactive.gradient_density_payload): edges, centers,
   * counts, ramp_sums (per bin, sum of clip(1 - y/R, 0, 1)), max_rul, y_top, colors.
   * Per bin: weight sum = counts + (w_max - 1) * ramp_sums; shares are normalised to sum 1. */
  root.AMNLFig.register("gradient_density", function (fig, d, v) {
    var wMax = v.w_max, t = v.test_rul, n = d.counts.length, i, fs = fig.fs;
    var sh = gradientDensityShares(d, wMax), total = sh.total, wTotal = sh.wTotal;
    var mse = sh.mse.map(function (x) { return 100 * x; }), amnl = sh.amnl.map(function (x) { return 100 * x; });
    /* wide: legend and note right of the plot; narrow: under it, the figure as tall as they need */
    var bottom = fig.narrow ? 16 + Math.round(Math.min(Math.max(0.62 * fig.width, 170), 240)) : fig.height - 48;
    var ax = fig.axes({left: fig.narrow ? 50 : 64, right: fig.width - (fig.narrow ? 16 : 190), top: 16, bottom: bottom,
                       x: [0, d.max_rul], y: [0, d.y_top],
                       xlabel: ["true RUL of the training window (cycles)", "true RUL of the window (cycles)", "true RUL (cycles)"],
                       ylabel: ["share per " + fmt(d.bin_width, 0) + "-cycle bin (%)", "share per bin (%)"]});
    var bars = fig.group({"class": "amnl-bars"});
    for (i = 0; i < n; i++) {
      var top = Math.min(mse[i], d.y_top);
      el(bars, "rect", {x: ax.x(d.edges[i]) + 0.5, width: Math.max(ax.x(d.edges[i + 1]) - ax.x(d.edges[i]) - 1, 0),
                        y: ax.y(top), height: ax.y(0) - ax.y(top), fill: d.colors.hist});
      if (mse[i] > d.y_top) {  /* off-scale bar: say how tall it is (moved left if it would leave the SVG) */
        var up = "\u2191" + fmt(mse[i], 0) + "%", half = fig.measure(up, fs.small) / 2;
        el(bars, "text", {x: Math.min(ax.x(d.centers[i]), fig.width - 3 - half), y: ax.y(d.y_top) + 12,
                          "text-anchor": "middle", "font-size": fs.small, fill: "#333"}, up);
      }
    }
    var same = Math.abs(wMax - 1) < 1e-9;
    /* The curves stop before the capped last bin (off-scale; its numbers are in the note). */
    var xs = d.centers.slice(0, n - 1);
    fig.curve(ax, xs, mse.slice(0, n - 1), {stroke: d.colors.mse, "data-series": "mse", "data-values": JSON.stringify(mse.map(function (x) { return +x.toFixed(4); }))});
    fig.curve(ax, xs, amnl.slice(0, n - 1), {stroke: d.colors.amnl, "stroke-dasharray": same ? "6 5" : undefined,
                                    "data-series": "amnl", "data-values": JSON.stringify(amnl.map(function (x) { return +x.toFixed(4); }))});
    var wt = weight(t, wMax, d.max_rul);
    el(fig.svg, "line", {x1: ax.x(t), x2: ax.x(t), y1: ax.y(0), y2: ax.y(d.y_top), stroke: d.colors.test,
                         "stroke-opacity": 0.35, "stroke-dasharray": "3 3"});
    el(fig.svg, "circle", {cx: ax.x(t), cy: ax.y(0), r: 6, fill: d.colors.test, "data-series": "test"});
    el(fig.svg, "text", {x: ax.x(t) + (t > 0.8 * d.max_rul ? -8 : 8), y: ax.y(0) - 10, "font-size": fs.text,
                         "text-anchor": t > 0.8 * d.max_rul ? "end" : "start", fill: d.colors.test},
       "w = " + fmt(wt, 2));
    var last = n - 1;
    var items = [
      {kind: "box", color: d.colors.hist, label: "training windows (FD001)"},
      {kind: "line", color: d.colors.mse, label: "gradient share, MSE"},
      {kind: "line", color: d.colors.amnl, label: "gradient share, AMNL", dash: same ? "6 5" : undefined},
      {kind: "dot", color: d.colors.test, label: "test engine"}
    ];
    var note = fig.group({"class": "amnl-note"}), attrs = {"font-size": fs.text, fill: "#333"};
    var cap = "Capped bin (RUL " + fmt(d.edges[last], 0) + "\u2013" + fmt(d.edges[last + 1], 0) + "):";
    var near = fmt(100 * (d.near.count + (wMax - 1) * d.near.ramp_sum) / wTotal, 1) + "%";
    if (!fig.narrow) {
      fig.legend(ax.box.right + 14, 30, items);
      [cap, fmt(mse[last], 1) + "% of windows,", "AMNL gives it " + fmt(amnl[last], 1) + "%", "of the gradient.", "",
       d.near.label + ": " + fmt(100 * d.near.count / total, 1) + "% of windows,", "AMNL gives it " + near, "of the gradient."]
        .forEach(function (s, k) { el(note, "text", {x: ax.box.right + 14, y: 120 + 15 * k, "font-size": fs.text, fill: "#333"}, s); });
    } else {
      var y = ax.box.bottom + 58 + fig.legendRows(8, ax.box.bottom + 58, fig.width - 16, items) + 6;
      var widest = function (s) { return s.replace(/\d+\.\d%/g, "100.0%"); };  /* the numbers at their widest */
      var p1 = cap + " " + fmt(mse[last], 1) + "% of windows, AMNL gives it " + fmt(amnl[last], 1) + "% of the gradient.";
      var p2 = d.near.label + ": " + fmt(100 * d.near.count / total, 1) + "% of windows, AMNL gives it " + near + " of the gradient.";
      y = fig.paragraph(8, y, p1, widest(p1), fig.width - 16, attrs, 15, note);
      fig.height = fig.paragraph(8, y + 6, p2, widest(p2), fig.width - 16, attrs, 15, note) - 15 + 12;
    }
    var head = same ? "w_max = 1: every weight is 1, so AMNL is plain MSE and the two curves coincide. "
                    : "w_max = " + fmt(wMax, 1) + ": ";
    return head + "Test engine at RUL " + fmt(t, 0) + ": weight " + fmt(wt, 2) + ", pull " + fmt(wt, 2) +
      "\u00d7 a healthy (RUL \u2265 " + fmt(d.max_rul, 0) + ") sample with the same error.";
  });

  /* Section 14.3. payload (amnl_utils.book.interactive.w_max_payload): y_grid and ramp_grid (the
   * schedule's shape clip(1 - y/R, 0, 1) on a grid), base = (2/B)|r_i| and ramp = clip(1 - y_i/R)
   * per sample of one batch, hist_edges, max_rul, w_top. |gradient_i| = base_i (1 + (w_max-1) ramp_i).
   * Two stacked panels: the schedule on top, the histogram of |gradient_i| below. */
  root.AMNLFig.register("w_max_ceiling", function (fig, d, v) {
    var wMax = v.w_max, i, nw = fig.narrow, left = nw ? 50 : 64, right = fig.width - (nw ? 16 : 20);
    /* wide: each panel half of the height; narrow: panels about 0.6 as tall as wide, the figure as tall as they need */
    var ph = Math.round(Math.min(Math.max(0.58 * fig.width, 160), 220)), mid = fig.height / 2;
    var b1 = nw ? 16 + ph : mid - 48, t2 = nw ? b1 + 64 : mid + 16, b2 = nw ? t2 + ph : fig.height - 48;
    if (nw) { fig.height = b2 + 48; }
    var a1 = fig.axes({left: left, right: right, top: 16, bottom: b1, x: [0, d.y_grid[d.y_grid.length - 1]],
                       y: [0, d.w_top], xlabel: "true RUL (cycles)", ylabel: "weight w(y)", ydecimals: 0});
    var wg = d.ramp_grid.map(function (r) { return 1 + (wMax - 1) * r; });
    fig.curve(a1, d.y_grid, d.y_grid.map(function () { return 1; }), {stroke: d.colors.mse, "data-series": "mse"});
    fig.curve(a1, d.y_grid, wg, {stroke: d.colors.amnl, "data-series": "schedule"});
    /* top right, where both curves are at 1 (placed for the widest label, so it does not move) */
    var lw = fig.legendWidth(["plain MSE", "AMNL, w_max = " + fmt(d.w_range[1], 1)]);
    fig.legend(Math.min(a1.box.right - 150, a1.box.right - lw - 8), 30, [
      {kind: "line", color: d.colors.mse, label: "plain MSE"},
      {kind: "line", color: d.colors.amnl, label: "AMNL, w_max = " + fmt(wMax, 1)}
    ]);
    var g = wMaxGradients(d, wMax);
    var e = d.hist_edges, nb = e.length - 1, counts = [];
    for (i = 0; i < nb; i++) { counts.push(0); }
    g.forEach(function (x) {
      var k = Math.min(Math.max(Math.floor((x - e[0]) / (e[1] - e[0])), 0), nb - 1);
      counts[k] += 1;
    });
    var cmax = Math.max.apply(null, counts.concat([1]));
    var a2 = fig.axes({left: left, right: right, top: t2, bottom: b2, x: [e[0], e[nb]],
                       y: [0, cmax * 1.1], xlabel: "per-sample |\u2202L/\u2202\u0177| (cycles)", ylabel: "samples in the batch",
                       xdecimals: 2});
    for (i = 0; i < nb; i++) {
      el(fig.svg, "rect", {x: a2.x(e[i]) + 0.5, width: Math.max(a2.x(e[i + 1]) - a2.x(e[i]) - 1, 0),
                           y: a2.y(counts[i]), height: a2.y(0) - a2.y(counts[i]), fill: d.colors.amnl,
                           "fill-opacity": 0.75, "data-series": "hist"});
    }
    return wMaxReadout(d, wMax);
  });

  /* Section 14.2. payload (amnl_utils.book.interactive.schedule_explorer_payload): per schedule its
   * shape on the 1-cycle y_grid and its shape summed over the windows of each RUL bucket; counts
   * and n of the windows. Checkboxes (one per schedule name) pick the schedules drawn. Top panel:
   * the weight curves and the test engine; bottom panel: grouped bars of the gradient share per
   * bucket, with a tick at each bucket's share of the windows. */
  root.AMNLFig.register("schedule_explorer", function (fig, d, v) {
    var wMax = v.w_max, t = v.test_rul, fs = fig.fs, nw = fig.narrow, left = nw ? 50 : 64, right = fig.width - (nw ? 16 : 20);
    var picked = d.schedules.filter(function (e) { return v[e.name]; });
    var vals = scheduleValues(d, wMax, t);
    var lo = d.w_range[0], hi = d.w_range[1], nb = d.buckets.length;
    var lines = function (e) { return {kind: "line", color: e.color, label: e.label}; };
    var test = {kind: "line", color: d.colors.test, label: "test engine", dash: "4 3"};
    var windows = {kind: "line", color: "#222", label: "share of windows (MSE)"};
    /* wide: as Python's viewBox (panels at 16-250 and 316-552, a legend in each); narrow: the weight
     * panel, one legend in rows for the test engine (top) and the windows' ticks (bottom), the bars.
     * There the checkboxes above, with their colour swatches, are the schedules' legend. */
    var ph = Math.round(Math.min(Math.max(0.6 * fig.width, 160), 220)), b1 = nw ? 16 + ph : 250, t2 = 316;
    if (nw) { t2 = b1 + 58 + fig.legendRows(8, b1 + 58, fig.width - 16, [test, windows]) + 8; }
    var a1 = fig.axes({left: left, right: right, top: 16, bottom: b1, x: [0, d.y_grid[d.y_grid.length - 1]],
                       y: [lo - 0.05 * (hi - lo), hi], yticks: ticks(lo, hi, 4), xlabel: "true RUL (cycles)",
                       ylabel: "weight w(y)", ydecimals: 0});
    el(fig.svg, "line", {x1: a1.x(t), x2: a1.x(t), y1: a1.y(a1.y.d0), y2: a1.y(hi), stroke: d.colors.test,
                         "stroke-opacity": 0.6, "stroke-dasharray": "4 3", "data-series": "test"});
    picked.forEach(function (e) {
      fig.curve(a1, d.y_grid, e.shape_grid.map(function (s) { return 1 + (wMax - 1) * s; }),
                {stroke: e.color, "data-series": "weight-" + e.name});
      el(fig.svg, "circle", {cx: a1.x(t), cy: a1.y(vals[e.name].weight), r: 4.5, fill: e.color,
                             stroke: "#fff", "stroke-width": 1});
    });
    if (!nw) { fig.legend(a1.box.right - 150, 30, picked.map(lines).concat([test])); }
    /* bucket labels under their bars, on two lines where one is wider than the bucket */
    var slot = (right - left) / nb - 6, rows = d.buckets.map(function (s) { return fig.wrap2(s, slot, fs.tick); });
    var extra = (Math.max.apply(null, rows.map(function (r) { return r.length; })) - 1) * (fs.tick + 2);
    var b2 = nw ? t2 + ph - 10 : fig.height - 48 - extra;
    if (nw) { fig.height = b2 + 48 + extra; }
    var a2 = fig.axes({left: left, right: right, top: t2, bottom: b2, x: [-0.5, nb - 0.5],
                       y: [0, d.share_top], xticks: [], xlabel: ["true-RUL bucket of the FD001 training windows", "true-RUL bucket of the windows"],
                       ylabel: "share of the gradient (%)", xlabelDy: extra});
    var width = 0.8 / Math.max(picked.length, 1);
    for (var b = 0; b < nb; b++) {
      rows[b].forEach(function (s, r) {
        el(a2.g, "text", {x: a2.x(b), y: a2.box.bottom + 6 + fs.tick + r * (fs.tick + 2), "text-anchor": "middle",
                          "font-size": fs.tick, fill: "#333"}, s);
      });
      var share = 100 * d.counts[b] / d.n;
      el(fig.svg, "line", {x1: a2.x(b - 0.44), x2: a2.x(b + 0.44), y1: a2.y(share), y2: a2.y(share), stroke: "#222",
                           "stroke-width": 2.5, "data-series": "windows"});
    }
    picked.forEach(function (e, k) {
      var shares = vals[e.name].shares.map(function (x) { return 100 * x; });
      var g = el(fig.svg, "g", {"data-series": "share-" + e.name,
                                "data-values": JSON.stringify(shares.map(function (x) { return +x.toFixed(4); }))});
      shares.forEach(function (x, b) {
        var x0 = b - 0.4 + width * k;
        el(g, "rect", {x: a2.x(x0) + 0.5, width: Math.max(a2.x(x0 + width) - a2.x(x0) - 1, 0), y: a2.y(x),
                       height: a2.y(0) - a2.y(x), fill: e.color});
      });
    });
    if (!nw) { fig.legend(a2.box.left + 12, 332, [windows]); }
    return scheduleReadout(d, picked.map(function (e) { return e.name; }), wMax, t);
  });
  /* Section 14.5. payload (amnl_utils.book.interactive.cost_payload): ks and, per subset, per arm
   * the mean cost rate and tuned theta at every k. One panel per subset, stacked. */
  /* A cost rate at 2 decimals, half up: cost_slider._cents (the same float operations). */
  function cents(c) { return fmt(Math.floor(100 * c + 0.5) / 100, 2); }
  function costReadout(d, k) {
    var i = d.ks.indexOf(k);
    return "k = " + k + ": the cheapest arm is " + d.subsets.map(function (s) {
      var models = s.arms.filter(function (a) { return a.arm !== "age"; });
      var best = models.reduce(function (b, a) {
        return (a.cost[i] < b.cost[i] || (a.cost[i] === b.cost[i] && a.arm < b.arm)) ? a : b;
      });
      var age = s.arms.filter(function (a) { return a.arm === "age"; })[0];
      return s.name + ": " + best.label + ", " + cents(best.cost[i]) + " per 1000 cycles at \u03b8 \u2248 " +
        fmt(best.theta[i], 0) + " cycles" + (age ? " (age-based " + cents(age.cost[i]) + ")" : "");
    }).join("; ") + ".";
  }
  root.AMNLFig.costReadout = costReadout;

  root.AMNLFig.register("cost_by_k", function (fig, d, v) {
    var k = Math.round(v.k), n = d.subsets.length, h = (fig.height - 40) / n, nw = fig.narrow, top = 16;
    var item = function (a) { return {kind: "line", color: a.color, label: a.label, dash: a.arm === "age" ? "5 3" : undefined}; };
    var ph = Math.round(Math.min(Math.max(0.55 * fig.width, 150), 200));
    if (nw) {  /* narrow: one legend of every arm in rows on top, the panels under it */
      var seen = {}, arms = [];
      d.subsets.forEach(function (s) { s.arms.forEach(function (a) { if (!seen[a.arm]) { seen[a.arm] = 1; arms.push(a); } }); });
      top = 24 + fig.legendRows(8, 16, fig.width - 16, arms.map(item));
      h = ph + 56 + 18;
      fig.height = top + n * h - 18;
    }
    d.subsets.forEach(function (s, j) {
      var y0 = top + j * h, ymax = 0;
      s.arms.forEach(function (a) { ymax = Math.max(ymax, Math.max.apply(null, a.cost)); });
      var ax = fig.axes({left: nw ? 50 : 64, right: fig.width - (nw ? 16 : 150), top: y0, bottom: y0 + h - 56 - (nw ? 18 : 0),
                         x: [d.ks[0], d.ks[d.ks.length - 1]], y: [0, ymax * 1.05],
                         xlabel: [s.name + ": failure cost k (planned replacements)", s.name + ": failure cost k"],
                         ylabel: "cost per 1000 cycles", ydecimals: 1});
      s.arms.forEach(function (a) {
        fig.curve(ax, d.ks, a.cost, {stroke: a.color, "data-series": s.name + "-" + a.arm,
                                     "stroke-dasharray": a.arm === "age" ? "5 3" : undefined});
      });
      el(fig.svg, "line", {x1: ax.x(k), x2: ax.x(k), y1: ax.y(0), y2: ax.y(ymax * 1.05), stroke: "#d62728",
                           "stroke-width": 1.5, "data-series": "k"});
      if (!nw) { fig.legend(fig.width - 140, y0 + 8, s.arms.map(item)); }
    });
    return costReadout(d, k);
  });
})(window);
