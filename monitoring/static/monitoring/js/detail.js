// A monitor's own page: a drag across the chart zooms in, and the start/end picker,
// the range and the split controls go into the URL, so every view can be shared.
(function ($) {
  'use strict';

  var $main = $('main.monitoring-detail-page');
  if (!$main.length) {
    return;
  }
  var $card = $main.find('.monitoring-card-detail');
  var $form = $main.find('.monitoring-detail-controls');
  var timezone = $main.attr('data-timezone');
  // Wall-clock time in the site's zone, as <input type="datetime-local"> takes it.
  var local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
  });

  function inputValue(seconds) {
    return local.format(new Date(seconds * 1000)).replace(' ', 'T');
  }

  // Picking a range clears the custom start and end, and editing them clears the range.
  $form.on('change', '.monitoring-detail-range', function () {
    if ($(this).val()) {
      $form.find('.monitoring-start, .monitoring-end').val('');
    }
  });
  $form.on('input change', '.monitoring-start, .monitoring-end', function () {
    $form.find('.monitoring-detail-range').val('');
  });
  // Empty fields stay out of the URL.
  $form.on('submit', function () {
    $form.find('input, select').each(function () {
      $(this).prop('disabled', this.value === '');
    });
  });

  // chart.js announces a drag as a DOM event with the span it selected.
  $card.on('monitoring:zoom', function (event) {
    var start = event.originalEvent.detail.start;
    var end = event.originalEvent.detail.end;
    var url = new URL(window.location.href);
    url.searchParams.delete('range');
    url.searchParams.delete('format');
    url.searchParams.set('start', new Date(start * 1000).toISOString().replace('.000Z', 'Z'));
    url.searchParams.set('end', new Date(end * 1000).toISOString().replace('.000Z', 'Z'));
    window.history.pushState(null, '', url.toString());
    $form.find('.monitoring-detail-range').val('');
    $form.find('.monitoring-start').val(inputValue(start));
    $form.find('.monitoring-end').val(inputValue(end));
    $card.attr('data-params', url.searchParams.toString());
    $main.trigger('monitoring:reload', [{ quiet: false }]);
  });

  // Back and forward walk through the zooms.
  window.addEventListener('popstate', function () {
    window.location.reload();
  });
})(jQuery);
