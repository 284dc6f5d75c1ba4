// Show a card's data as a table, for keyboards and screen readers, built from the chart data.
(function ($) {
  'use strict';

  function formatter(timezone, resolution) {
    var options = { timeZone: timezone, year: 'numeric', month: 'short', day: 'numeric' };
    if (resolution !== 'day') {
      options.hour = '2-digit';
      options.minute = '2-digit';
    }
    // The page's language, not the browser's: the same page reads the same on every machine.
    var format = new Intl.DateTimeFormat(document.documentElement.lang || 'en', options);
    return function (ts) { return format.format(new Date(ts * 1000)); };
  }

  function cell(tag, text) {
    return $('<' + tag + '>').text(text === null || text === undefined ? '' : String(text));
  }

  function build(data) {
    var columns = data.stats.map(function (stat) {
      return { label: stat, values: data.values[stat] };
    });
    data.groups.forEach(function (group) {
      $.each(group.values, function (stat, values) {
        columns.push({ label: data.split_by + '=' + group.label + ' ' + stat, values: values });
      });
    });
    var time = formatter(data.timezone, data.resolution);
    var $table = $('<table>');
    $table.append($('<caption>').text(data.title + (data.unit ? ' (' + data.unit + ')' : '')));
    var $head = $('<tr>').append(cell('th', 'Start (' + data.timezone + ')').attr('scope', 'col'));
    columns.forEach(function (column) {
      $head.append(cell('th', column.label).attr('scope', 'col'));
    });
    $table.append($('<thead>').append($head));
    var $body = $('<tbody>');
    data.timestamps.forEach(function (ts, i) {
      var $row = $('<tr>').append(cell('th', time(ts)).attr('scope', 'row'));
      columns.forEach(function (column) {
        $row.append(cell('td', column.values[i]));
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
      $wrap.append(build(JSON.parse(raw)));
    }
    $wrap.prop('hidden', open);
    $button.attr('aria-expanded', String(!open));
    $button.text(open ? 'Show data table' : 'Hide data table');
  });
})(jQuery);
