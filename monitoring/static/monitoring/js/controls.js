// The page's range picker and auto-refresh. Both live in the URL so a view can be shared;
// auto-refresh pauses while the tab is hidden and catches up when it is shown again.
(function ($) {
  'use strict';

  var $main = $('main.monitoring');
  if (!$main.length) {
    return;
  }
  var $range = $main.find('.monitoring-range');
  var $refresh = $main.find('.monitoring-refresh');
  var timer = null;
  var due = false;

  function syncUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set('range', $range.val());
    if (Number($refresh.val())) {
      url.searchParams.set('refresh', $refresh.val());
    } else {
      url.searchParams.delete('refresh');
    }
    // Cards with a range of their own: ?cards=orders:1h,user_count:24h
    var cards = [];
    $main.find('.monitoring-card').each(function () {
      var own = $(this).find('.monitoring-card-range').val();
      if (own) {
        cards.push($(this).attr('data-monitor') + ':' + own);
      }
    });
    if (cards.length) {
      url.searchParams.set('cards', cards.join(','));
    } else {
      url.searchParams.delete('cards');
    }
    window.history.replaceState(null, '', url.toString());
  }

  function schedule() {
    window.clearTimeout(timer);
    due = false;
    var seconds = Number($refresh.val());
    if (seconds) {
      timer = window.setTimeout(tick, seconds * 1000);
    }
  }

  function tick() {
    if (document.hidden) {
      due = true;
      return;
    }
    $main.trigger('monitoring:reload', [{ quiet: true }]);
    schedule();
  }

  // The banner of firing alerts is refreshed with the cards: ?part=banner answers it alone,
  // and it (or its absence) replaces this one. A failed fetch keeps what is shown.
  function refreshBanner() {
    var url = new URL(window.location.href);
    url.searchParams.set('part', 'banner');
    window.fetch(url.toString(), { cache: 'no-store', credentials: 'same-origin' })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var $fresh = $('<div>').append($.parseHTML(html)).find('.monitoring-banner-slot');
        if ($fresh.length) {
          $main.find('.monitoring-banner-slot').replaceWith($fresh);
        }
      })
      .catch(function () {});
  }

  $main.on('monitoring:reload', refreshBanner);

  // Card titles lead to each monitor's page, with the range the card shows.
  function syncTitles() {
    $main.find('.monitoring-card').each(function () {
      var $card = $(this);
      $card.find('.monitoring-card-title a, .monitoring-card-menu a').each(function () {
        var url = new URL(this.href);
        url.searchParams.set('range', $card.find('.monitoring-card-range').val() || $range.val());
        this.href = url.toString();
      });
    });
  }

  $main.on('change', '.monitoring-card-range', function () {
    syncTitles();
    syncUrl();
    $(this).closest('details').prop('open', false);
  });

  $range.on('change', function () {
    $main.attr('data-range', $range.val());
    syncUrl();
    syncTitles();
    $main.trigger('monitoring:reload', [{ quiet: false }]);
  });

  $refresh.on('change', function () {
    $main.attr('data-refresh', $refresh.val());
    syncUrl();
    schedule();
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && due) {
      tick();
    }
  });

  schedule();
})(jQuery);
