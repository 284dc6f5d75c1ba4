// Draw a card's chart with uPlot once cards.js has put the card's HTML in place.
// Counts are stacked bars, gauges an average line in a min-max band, durations
// p50/p95/p99 lines. Names of stats come with the data (data.labels), times and
// numbers from djangoMonitoring.format (format.js).
//
// No jQuery here: this script comes before it, so the chart the page brings is drawn
// before jQuery and the scripts that need it have been fetched and run. It hears the
// other scripts through DOM events and shares its charts as djangoMonitoring.plotOf(card).
(function (uPlot) {
  'use strict';

  var HEIGHT = 150;

  function cardOf(el) {
    return el.closest('.monitoring-card');
  }

  function heightOf(el) {
    return Number(cardOf(el).getAttribute('data-height')) || HEIGHT;
  }
  var shared = window.djangoMonitoring;
  var format = shared.format;
  // Each card's chart, for markers.js and the tests.
  var plots = new WeakMap();
  shared.plotOf = function (card) {
    return plots.get(card) || null;
  };

  function announce(card, name, detail) {
    card.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail }));
  }
  // Charts share the cursor: hovering one card shows the same moment on every other.
  var SYNC_KEY = 'monitoring';

  // Lines break at empty buckets; a reading with no neighbour would then be invisible,
  // so it gets a dot.
  function isolated(u, si) {
    var values = u.data[si];
    var found = [];
    for (var i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined &&
          (i === 0 || values[i - 1] === null) && (i === values.length - 1 || values[i + 1] === null)) {
        found.push(i);
      }
    }
    return found.length ? found : null;
  }

  var LINE_POINTS = { show: false, size: 6, filter: isolated };

  function cssVar(el, name) {
    return window.getComputedStyle(el).getPropertyValue(name).trim();
  }

  // Any CSS colour (#rgb, #rrggbb, rgb(), a name...) with an alpha: the canvas normalises
  // what it is given to #rrggbb or rgba(), so no suffix is ever glued to rgb() or #abc.
  var probe = document.createElement('canvas').getContext('2d');
  function alpha(color, opacity) {
    probe.fillStyle = '#000000';
    probe.fillStyle = color;
    var normal = probe.fillStyle;
    var rgb;
    if (normal.charAt(0) === '#') {
      rgb = [1, 3, 5].map(function (i) { return parseInt(normal.substr(i, 2), 16); });
    } else {
      rgb = normal.replace(/[^\d,.]/g, '').split(',').slice(0, 3).map(Number);
    }
    return 'rgba(' + rgb.join(', ') + ', ' + opacity + ')';
  }

  function theme(el) {
    var colors = [];
    for (var i = 1; i <= 6; i++) {
      colors.push(cssVar(el, '--monitoring-series-' + i) || '#0072b2');
    }
    return {
      colors: colors,
      axis: cssVar(el, '--monitoring-muted') || '#59636e',
      grid: cssVar(el, '--monitoring-grid') || '#d0d7de'
    };
  }

  function bars() {
    return uPlot.paths.bars({ size: [0.8, 40], gap: 1 });
  }

  // The group of every value outside the top N is named in the page's language.
  function groupName(data, group) {
    return group.other ? data.labels.other : group.label;
  }

  // Stack the groups' bars. Each series holds its own value plus those of every group after
  // it, so the first (largest) group is the tallest bar, drawn first and covered by the
  // rest but for its own band at the top; the legend lists the groups in their rank order
  // and shows each group's own value.
  function stacked(data, t) {
    var stat = data.group_stat;
    var running = data.timestamps.map(function () { return 0; });
    var columns = [];
    for (var g = data.groups.length - 1; g >= 0; g--) {
      var values = data.groups[g].values[stat];
      running = running.map(function (total, j) { return total + (values[j] || 0); });
      columns.unshift(running.slice());
    }
    var series = data.groups.map(function (group, i) {
      var own = group.values[stat];
      return {
        label: groupName(data, group),
        stroke: t.colors[i % t.colors.length],
        fill: alpha(t.colors[i % t.colors.length], 0.8),
        width: 0,
        paths: bars(),
        points: { show: false },
        value: function (u, v, si, idx) {
          return idx === null ? '' : format.number(own[idx], '');
        }
      };
    });
    return { columns: columns, series: series };
  }

  function groupLines(data, t) {
    var stat = data.group_stat;
    return {
      columns: data.groups.map(function (group) { return group.values[stat]; }),
      series: data.groups.map(function (group, i) {
        return {
          label: groupName(data, group) + ' ' + data.labels[stat],
          stroke: t.colors[i % t.colors.length],
          width: 1.5,
          points: LINE_POINTS
        };
      })
    };
  }

  function plainSeries(data, t) {
    var labels = data.labels;
    if (data.kind === 'count') {
      return {
        columns: [data.values.sum],
        series: [{
          label: labels.sum,
          stroke: t.colors[0],
          fill: alpha(t.colors[0], 0.75),
          width: 0,
          paths: bars(),
          points: { show: false }
        }]
      };
    }
    if (data.kind === 'value') {
      var band = alpha(t.colors[0], 0.4);
      return {
        columns: [data.values.min, data.values.max, data.values.avg],
        series: [
          { label: labels.min, stroke: band, width: 1, points: { show: false } },
          { label: labels.max, stroke: band, width: 1, points: { show: false } },
          { label: labels.avg, stroke: t.colors[0], width: 2, points: LINE_POINTS }
        ],
        bands: [{ series: [2, 1], fill: alpha(t.colors[0], 0.18) }]
      };
    }
    return {
      columns: [data.values.p50, data.values.p95, data.values.p99],
      series: ['p50', 'p95', 'p99'].map(function (stat, i) {
        return { label: labels[stat], stroke: t.colors[i], width: i === 1 ? 2 : 1.5, points: LINE_POINTS };
      })
    };
  }

  // Counts are whole numbers: their axis never shows 2.5.
  var WHOLE_INCREMENTS = [];
  [1, 2, 5].forEach(function (base) {
    for (var power = 0; power <= 15; power++) {
      WHOLE_INCREMENTS.push(base * Math.pow(10, power));
    }
  });
  WHOLE_INCREMENTS.sort(function (a, b) { return a - b; });

  function build(data, el) {
    var t = theme(el);
    var card = cardOf(el);
    var zoom = card.getAttribute('data-zoom') === 'true';
    var parts;
    if (data.groups.length) {
      parts = data.kind === 'count' ? stacked(data, t) : groupLines(data, t);
    } else {
      parts = plainSeries(data, t);
    }
    var axis = { stroke: t.axis, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1 } };
    var yAxis = Object.assign({}, axis, {
      size: 56,
      values: function (u, ticks) { return ticks.map(function (v) { return format.number(v, ''); }); }
    });
    if (data.kind === 'count') {
      yAxis.incrs = WHOLE_INCREMENTS;
    }
    var options = {
      width: Math.max(el.clientWidth, 200),
      height: heightOf(el),
      // Bucket times are placed in the site's time zone, whatever the browser's is.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), data.timezone); },
      series: [{
        label: data.labels.time || '',
        value: function (u, ts) { return ts === null ? '' : format.time(ts, data.timezone, data.resolution); }
      }].concat(parts.series.map(function (s) {
        // Without the unit, which the card's title shows: a gauge's three values with it
        // would not fit a phone's legend line.
        if (!s.value) {
          s.value = function (u, v) { return format.number(v, ''); };
        }
        s.spanGaps = false;
        return s;
      })),
      axes: [
        Object.assign({}, axis, {
          values: function (u, ticks, axisIdx, space, step) {
            return ticks.map(function (ts) { return format.axis(ts, data.timezone, step); });
          }
        }),
        yAxis
      ],
      scales: { y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } },
      legend: { live: true },
      cursor: { drag: { x: zoom, y: false, setScale: false }, sync: { key: SYNC_KEY } }
    };
    if (zoom) {
      // A drag selects a time span; the page (detail.js) makes it the new range.
      options.hooks = {
        setSelect: [function (u) {
          if (u.select.width < 3) {
            return;
          }
          var start = u.posToVal(u.select.left, 'x');
          var end = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
          announce(card, 'monitoring:zoom', { start: Math.floor(start), end: Math.ceil(end) });
        }]
      };
    }
    if (parts.bands) {
      options.bands = parts.bands;
    }
    return new uPlot(options, [data.timestamps].concat(parts.columns), el);
  }

  // Charts follow their card's width.
  var resizer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var plot = plots.get(cardOf(entry.target));
      if (plot && Math.abs(plot.width - entry.target.clientWidth) > 1) {
        plot.setSize({ width: Math.max(entry.target.clientWidth, 200), height: heightOf(entry.target) });
      }
    });
  });

  // Let go of a card's chart: uPlot's window listeners and the resize observation,
  // which would otherwise keep every replaced chart alive while auto-refresh runs.
  function destroy(card) {
    var plot = plots.get(card);
    if (plot) {
      resizer.unobserve(plot.root.parentNode);
      plot.destroy();
      plots.delete(card);
    }
  }

  function draw(card) {
    destroy(card);
    var el = card.querySelector('.monitoring-chart');
    if (!el) {
      return;
    }
    var data = JSON.parse(el.getAttribute('data-series'));
    plots.set(card, build(data, el));
    resizer.observe(el);
    card.setAttribute('data-drawn', String(Number(card.getAttribute('data-drawn') || 0) + 1));
    announce(card, 'monitoring:chart-drawn');
  }

  function drawn(card) {
    var plot = plots.get(card);
    return Boolean(plot) && plot.root.parentNode === card.querySelector('.monitoring-chart');
  }

  // cards.js announces each card whose content is in place; a card this script drew
  // before (the one the page brought) keeps its chart.
  document.addEventListener('monitoring:card-loaded', function (event) {
    var card = event.target.closest && event.target.closest('.monitoring-card');
    if (card && !drawn(card)) {
      draw(card);
    }
  });

  document.addEventListener('monitoring:card-unload', function (event) {
    var card = event.target.closest && event.target.closest('.monitoring-card');
    if (card) {
      destroy(card);
    }
  });

  // Cards that arrived before this script ran (the dashboard renders its first ones into
  // the page) are drawn one per frame, top first: the first chart shows without waiting
  // for the others, or for jQuery.
  var waiting = Array.prototype.filter.call(document.querySelectorAll('.monitoring-card'), function (card) {
    return card.querySelector('.monitoring-chart') !== null;
  });
  function drawWaiting() {
    var card = waiting.shift();
    if (card && !drawn(card) && card.querySelector('.monitoring-chart')) {
      draw(card);
    }
    if (waiting.length) {
      window.requestAnimationFrame(drawWaiting);
    }
  }
  drawWaiting();

  // Colours come from CSS, so redraw when the system switches between light and dark.
  var scheme = window.matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', function () {
    document.querySelectorAll('.monitoring-card').forEach(function (card) {
      if (plots.has(card)) {
        draw(card);
      }
    });
  });
})(uPlot);
