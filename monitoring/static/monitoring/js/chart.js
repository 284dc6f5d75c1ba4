// Draw a card's chart with uPlot once cards.js has put the card's HTML in place.
// Counts are bars, gauges an average line in a min-max band, durations p50/p95/p99 lines.
(function ($, uPlot) {
  'use strict';

  var HEIGHT = 190;
  var LABELS = {
    sum: 'Total', avg: 'Average', min: 'Min', max: 'Max', last: 'Last',
    count: 'Count', p50: 'p50', p95: 'p95', p99: 'p99'
  };
  var GROUP_STAT = { count: 'sum', value: 'avg', duration: 'p95' };

  // Lines span gaps, so only a lone reading would stay invisible: mark it with a dot.
  function loneReading(u, si) {
    var found = null;
    var values = u.data[si];
    for (var i = 0; i < values.length; i++) {
      if (values[i] !== null && values[i] !== undefined) {
        if (found !== null) {
          return null;
        }
        found = i;
      }
    }
    return found === null ? null : [found];
  }

  var LINE_POINTS = { show: false, size: 6, filter: loneReading };

  function cssVar(el, name) {
    return window.getComputedStyle(el).getPropertyValue(name).trim();
  }

  function theme(el) {
    var colors = [];
    for (var i = 1; i <= 6; i++) {
      colors.push(cssVar(el, '--monitoring-series-' + i) || '#0969da');
    }
    return {
      colors: colors,
      axis: cssVar(el, '--monitoring-muted') || '#59636e',
      grid: cssVar(el, '--monitoring-grid') || '#d0d7de'
    };
  }

  function formatValue(value, unit) {
    if (value === null || value === undefined) {
      return '–';
    }
    var digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : (Math.abs(value) >= 10 ? 1 : 2);
    var text = value.toLocaleString(undefined, { maximumFractionDigits: digits });
    return unit ? text + ' ' + unit : text;
  }

  // Stack the groups' bars: each series holds the running total up to itself and is drawn
  // behind the ones before it, while the legend still shows each group's own value.
  function stacked(data, t) {
    var stat = GROUP_STAT[data.kind];
    var running = data.timestamps.map(function () { return 0; });
    var columns = [];
    var series = [];
    data.groups.forEach(function (group, i) {
      var own = group.values[stat];
      running = running.map(function (total, j) { return total + (own[j] || 0); });
      columns.push(running.slice());
      series.push({
        label: group.label,
        stroke: t.colors[i % t.colors.length],
        fill: t.colors[i % t.colors.length] + 'cc',
        paths: uPlot.paths.bars({ size: [0.8, 40], gap: 1 }),
        points: { show: false },
        value: function (u, v, si, idx) {
          return idx === null ? '–' : formatValue(own[idx], data.unit);
        }
      });
    });
    return { columns: columns.reverse(), series: series.reverse() };
  }

  function groupLines(data, t) {
    var stat = GROUP_STAT[data.kind];
    return {
      columns: data.groups.map(function (group) { return group.values[stat]; }),
      series: data.groups.map(function (group, i) {
        return {
          label: group.label + ' ' + LABELS[stat],
          stroke: t.colors[i % t.colors.length],
          width: 1.5,
          spanGaps: true,
          points: LINE_POINTS
        };
      })
    };
  }

  function plainSeries(data, t) {
    if (data.kind === 'count') {
      return {
        columns: [data.values.sum],
        series: [{
          label: LABELS.sum,
          stroke: t.colors[0],
          fill: t.colors[0] + 'bb',
          paths: uPlot.paths.bars({ size: [0.8, 40], gap: 1 }),
          points: { show: false }
        }]
      };
    }
    if (data.kind === 'value') {
      return {
        columns: [data.values.min, data.values.max, data.values.avg],
        series: [
          { label: LABELS.min, stroke: t.colors[0] + '66', width: 1, spanGaps: true, points: { show: false } },
          { label: LABELS.max, stroke: t.colors[0] + '66', width: 1, spanGaps: true, points: { show: false } },
          { label: LABELS.avg, stroke: t.colors[0], width: 2, spanGaps: true, points: LINE_POINTS }
        ],
        bands: [{ series: [2, 1], fill: t.colors[0] + '2e' }]
      };
    }
    return {
      columns: [data.values.p50, data.values.p95, data.values.p99],
      series: ['p50', 'p95', 'p99'].map(function (stat, i) {
        return { label: LABELS[stat], stroke: t.colors[i], width: i === 1 ? 2 : 1.5, spanGaps: true, points: LINE_POINTS };
      })
    };
  }

  function build(data, el) {
    var t = theme(el);
    var parts;
    if (data.groups.length) {
      parts = data.kind === 'count' ? stacked(data, t) : groupLines(data, t);
    } else {
      parts = plainSeries(data, t);
    }
    var axis = { stroke: t.axis, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1 } };
    var options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      // Bucket times are shown in the site's time zone, whatever the browser's is.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), data.timezone); },
      series: [{ label: 'Time' }].concat(parts.series.map(function (s) {
        if (!s.value) {
          s.value = function (u, v) { return formatValue(v, data.unit); };
        }
        return s;
      })),
      axes: [
        $.extend({}, axis),
        $.extend({}, axis, {
          size: 56,
          values: function (u, ticks) { return ticks.map(function (v) { return formatValue(v, ''); }); }
        })
      ],
      scales: { y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } }
    };
    if (parts.bands) {
      options.bands = parts.bands;
    }
    return new uPlot(options, [data.timestamps].concat(parts.columns), el);
  }

  // Charts follow their card's width.
  var resizer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var plot = $(entry.target).closest('.monitoring-card').data('monitoringPlot');
      if (plot && Math.abs(plot.width - entry.target.clientWidth) > 1) {
        plot.setSize({ width: Math.max(entry.target.clientWidth, 200), height: HEIGHT });
      }
    });
  });

  // Let go of a card's chart: uPlot's window listeners and the resize observation,
  // which would otherwise keep every replaced chart alive while auto-refresh runs.
  function destroy(card) {
    var $card = $(card);
    var plot = $card.data('monitoringPlot');
    if (plot) {
      resizer.unobserve(plot.root.parentNode);
      plot.destroy();
      $card.removeData('monitoringPlot');
    }
  }

  function draw(card) {
    var $card = $(card);
    destroy(card);
    var el = $card.find('.monitoring-chart')[0];
    if (!el) {
      return;
    }
    var data = JSON.parse(el.getAttribute('data-series'));
    $card.data('monitoringPlot', build(data, el));
    resizer.observe(el);
    $card.attr('data-drawn', String(Number($card.attr('data-drawn') || 0) + 1));
    $card.trigger('monitoring:chart-drawn');
  }

  $(document).on('monitoring:card-loaded', '.monitoring-card', function () {
    draw(this);
  });

  $(document).on('monitoring:card-unload', '.monitoring-card', function () {
    destroy(this);
  });

  // A card that arrived before this script ran is drawn now.
  $('.monitoring-card').each(function () {
    if ($(this).find('.monitoring-chart').length && !$(this).data('monitoringPlot')) {
      draw(this);
    }
  });

  // Colours come from CSS, so redraw when the system switches between light and dark.
  var scheme = window.matchMedia('(prefers-color-scheme: dark)');
  scheme.addEventListener('change', function () {
    $('.monitoring-card').each(function () {
      if ($(this).data('monitoringPlot')) {
        draw(this);
      }
    });
  });
})(jQuery, uPlot);
