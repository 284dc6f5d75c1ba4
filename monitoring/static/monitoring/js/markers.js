// Annotations and alert thresholds on every chart, over what chart.js draws: each
// annotation in the chart's range is a vertical marker with its text on hover, and each
// alert rule on a stat the chart draws is a horizontal line at its threshold. On a
// monitor's page, checkboxes show or hide the markers by tag.
(function ($) {
  'use strict';

  var format = window.djangoMonitoring.format;

  function dataOf(card) {
    var el = $(card).find('.monitoring-chart')[0];
    return el ? JSON.parse(el.getAttribute('data-series')) : null;
  }

  function hiddenTags() {
    var hidden = {};
    $('.monitoring-annotation-filter input[type=checkbox]').each(function () {
      if (!this.checked) {
        hidden[this.value] = true;
      }
    });
    return hidden;
  }

  // A marker is shown unless every one of its tags is hidden (untagged ones always show).
  function applyFilter(root) {
    var hidden = hiddenTags();
    $(root).find('.monitoring-marker').each(function () {
      var tags = JSON.parse(this.getAttribute('data-tags') || '[]');
      var show = !tags.length || tags.some(function (tag) { return !hidden[tag]; });
      this.hidden = !show;
    });
  }

  function markerText(annotation, data) {
    var text = annotation.text + ' · ' + format.time(annotation.timestamp, data.timezone, 'minute');
    return annotation.tags.length ? text + ' [' + annotation.tags.join(', ') + ']' : text;
  }

  // Rules are drawn on the chart of their own stat only: a p95 line means nothing on counts.
  function drawnRules(data) {
    if (data.groups.length) {
      return [];
    }
    return (data.alerts || []).filter(function (rule) {
      return data.stats.indexOf(rule.stat) !== -1;
    });
  }

  function place(u, layer, data) {
    var width = u.over.clientWidth;
    var height = u.over.clientHeight;
    $(layer).children('.monitoring-marker').each(function () {
      var left = u.valToPos(Number(this.getAttribute('data-timestamp')), 'x');
      this.style.left = left + 'px';
      this.style.display = left < 0 || left > width ? 'none' : '';
    });
    $(layer).children('.monitoring-threshold').each(function () {
      var value = Number(this.getAttribute('data-value'));
      var top = u.valToPos(value, 'y');
      // A line beyond the axis is pinned to the edge it lies past, marked as such.
      var outside = top < 0 ? 'above' : (top > height ? 'below' : '');
      this.style.top = Math.min(Math.max(top, 0), height) + 'px';
      this.setAttribute('data-outside', outside);
    });
  }

  function decorate(card) {
    var u = window.djangoMonitoring.plotOf(card);
    var data = dataOf(card);
    if (!u || !data) {
      return;
    }
    $(u.over).children('.monitoring-overlay').remove();
    var layer = document.createElement('div');
    layer.className = 'monitoring-overlay';
    (data.annotations || []).forEach(function (annotation) {
      var marker = document.createElement('div');
      marker.className = 'monitoring-marker';
      marker.setAttribute('data-timestamp', String(annotation.timestamp));
      // JSON: a tag may hold spaces.
      marker.setAttribute('data-tags', JSON.stringify(annotation.tags));
      marker.title = markerText(annotation, data);
      marker.setAttribute('aria-label', marker.title);
      layer.appendChild(marker);
    });
    drawnRules(data).forEach(function (rule) {
      [['above', rule.above], ['below', rule.below]].forEach(function (side) {
        if (side[1] === null || side[1] === undefined) {
          return;
        }
        var line = document.createElement('div');
        line.className = 'monitoring-threshold monitoring-threshold-' + rule.state;
        line.setAttribute('data-rule', rule.name);
        line.setAttribute('data-value', String(side[1]));
        line.title = rule.name + ': ' + rule.summary + ' (' + rule.state + ')';
        layer.appendChild(line);
      });
    });
    u.over.appendChild(layer);
    place(u, layer, data);
    // Follow the chart when it is resized or rescaled.
    if (!u.monitoringMarkers) {
      u.monitoringMarkers = true;
      ['setSize', 'setScale'].forEach(function (name) {
        u.hooks[name] = (u.hooks[name] || []).concat([function (plot) {
          var current = $(plot.over).children('.monitoring-overlay')[0];
          if (current) {
            place(plot, current, data);
          }
        }]);
      });
    }
    applyFilter(card);
    updateTagFilter(data);
    $(card).attr('data-markers', String((data.annotations || []).length));
  }

  // The monitor's page lists the tags of its chart's annotations as checkboxes.
  function updateTagFilter(data) {
    var $filter = $('.monitoring-annotation-filter');
    if (!$filter.length) {
      return;
    }
    var hidden = hiddenTags();
    var tags = [];
    (data.annotations || []).forEach(function (annotation) {
      annotation.tags.forEach(function (tag) {
        if (tags.indexOf(tag) === -1) {
          tags.push(tag);
        }
      });
    });
    tags.sort();
    var $list = $filter.find('.monitoring-annotation-tags').empty();
    tags.forEach(function (tag) {
      var $box = $('<input type="checkbox">').val(tag).prop('checked', !hidden[tag]);
      $list.append($('<label>').append($box, document.createTextNode(' ' + tag)));
    });
    $filter.prop('hidden', !tags.length);
  }

  $(document).on('change', '.monitoring-annotation-filter input[type=checkbox]', function () {
    applyFilter(document);
  });

  $(document).on('monitoring:chart-drawn', '.monitoring-card', function () {
    decorate(this);
  });

  // Charts drawn before this script ran.
  $('.monitoring-card').each(function () {
    if (window.djangoMonitoring.plotOf(this)) {
      decorate(this);
    }
  });
})(jQuery);
