// Show a card's data as a table, for keyboards and screen readers, built from the chart data.
(function ($) {
  'use strict';

  function cell(tag, text) {
    return $('<' + tag + '>').text(text === null || text === undefined ? '' : String(text));
  }

  function build(data, startLabel) {
    var format = window.djangoMonitoring.format;
    var columns = data.stats.map(function (stat) {
      return { label: data.labels[stat], values: data.values[stat] };
    });
    data.groups.forEach(function (group) {
      $.each(group.values, function (stat, values) {
        var name = group.other ? data.labels.other : data.split_by + '=' + group.label;
        columns.push({ label: name + ' ' + data.labels[stat], values: values });
      });
    });
    var $table = $('<table>');
    $table.append($('<caption>').text(data.title + (data.unit ? ' (' + data.unit + ')' : '')));
    var $head = $('<tr>').append(cell('th', startLabel).attr('scope', 'col'));
    columns.forEach(function (column) {
      $head.append(cell('th', column.label).attr('scope', 'col'));
    });
    $table.append($('<thead>').append($head));
    var $body = $('<tbody>');
    data.timestamps.forEach(function (ts, i) {
      var $row = $('<tr>').append(cell('th', format.time(ts, data.timezone, data.resolution)).attr('scope', 'row'));
      columns.forEach(function (column) {
        $row.append(cell('td', format.number(column.values[i], '')));
      });
      $body.append($row);
    });
    return $table.append($body);
  }

  $(document).on('click', '.monitoring-table-toggle', function () {
    var $button = $(this);
    var $card = $button.closest('.monitoring-card');
    var $wrap = $card.find('.monitoring-table');
    var open = $button.attr('aria-expanded') === 'true';
    if (!open && !$wrap.children().length) {
      var raw = $card.find('.monitoring-chart').attr('data-series');
      $wrap.append(build(JSON.parse(raw), $button.attr('data-label-start')));
    }
    $wrap.prop('hidden', open);
    $button.attr('aria-expanded', String(!open));
    $button.text($button.attr(open ? 'data-label-show' : 'data-label-hide'));
  });

  // A monitor's page shows its table from the start, also when its card arrived
  // before this script ran.
  function openTable() {
    $(this).find('.monitoring-table-toggle[aria-expanded=false]').trigger('click');
  }
  $(document).on('monitoring:card-loaded', '.monitoring-card[data-table-open=true]', openTable);
  $('.monitoring-card[data-table-open=true]').each(openTable);
})(jQuery);
