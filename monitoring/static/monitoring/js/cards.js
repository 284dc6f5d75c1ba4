// Fetch each dashboard card over AJAX when it scrolls into view, and show its state:
// loading, ready, empty or error. One failing card never stops the others.
(function ($) {
  'use strict';

  // The dashboard, a monitor's page, or cards embedded by {% monitoring_card %}: each root
  // carries the page's range, zone and messages.
  var $main = $('.monitoring[data-messages]');
  if (!$main.length) {
    return;
  }
  var TIMEOUT_MS = 30000;
  // Every message comes translated from the page (data-messages), none is written here.
  var MESSAGES = JSON.parse($main.attr('data-messages') || '{}');
  // A few requests at a time, in page order: the first card on screen then arrives first
  // instead of sharing the server with every other card that came into view with it.
  var MAX_IN_FLIGHT = 4;
  var queue = [];
  var inFlight = 0;

  function rangeOf($card) {
    return $card.find('.monitoring-card-range').val() || $card.closest('.monitoring').attr('data-range');
  }

  // chart.js, which runs before jQuery, hears these as DOM events; jQuery's .on() too.
  function announce($card, name) {
    $card[0].dispatchEvent(new CustomEvent(name, { bubbles: true }));
  }

  function setState($card, state) {
    $card.attr('data-state', state);
    $card.attr('aria-busy', state === 'loading' ? 'true' : 'false');
  }

  function errorMessage(xhr, status) {
    if (status === 'timeout') {
      return MESSAGES.timeout;
    }
    if (xhr.status === 0) {
      return MESSAGES.unreachable;
    }
    // 401, 403, 404 and 400 come with a JSON body that says what went wrong.
    var type = xhr.getResponseHeader('Content-Type') || '';
    if (type.indexOf('application/json') === 0) {
      try {
        return JSON.parse(xhr.responseText).error + ' (HTTP ' + xhr.status + ')';
      } catch (ignore) {
        // Fall through to the generic message.
      }
    }
    return MESSAGES.http.replace('%(status)s', String(xhr.status));
  }

  function showError($card, message) {
    var $box = $('<div class="monitoring-error" role="alert">');
    $box.append($('<p>').append($('<strong>').text(MESSAGES.failed + ' '), $('<span>').text(message)));
    $box.append($('<button type="button" class="monitoring-retry">').text(MESSAGES.retry));
    announce($card, 'monitoring:card-unload');
    $card.find('.monitoring-card-body').empty().append($box);
    setState($card, 'error');
  }

  // A card's content names its parts after the monitor (monitoring-summary-orders), but a
  // page may show two cards of one monitor: each card prefixes them with its own id.
  var REFERENCES = ['aria-describedby', 'aria-controls', 'aria-labelledby', 'for'];

  function ownIds($card, $content) {
    var renamed = {};
    $content.find('[id]').addBack('[id]').each(function () {
      renamed[this.id] = $card.attr('id') + '-' + this.id;
      this.id = renamed[this.id];
    });
    $content.find('[' + REFERENCES.join('],[') + ']').addBack().each(function () {
      var element = this;
      REFERENCES.forEach(function (name) {
        var value = element.getAttribute(name);
        if (value) {
          element.setAttribute(name, value.split(' ').map(function (id) {
            return renamed[id] || id;
          }).join(' '));
        }
      });
    });
  }

  // A card's content is in place, fetched or rendered with the page: show it.
  function show($card, $content) {
    ownIds($card, $content);
    var timezone = $card.closest('.monitoring').attr('data-timezone');
    $content.each(function () {
      window.djangoMonitoring.format.localize(this, timezone);
    });
    setState($card, $content.attr('data-state'));
    announce($card, 'monitoring:card-loaded');
  }

  function load($card, quiet) {
    var previous = $card.data('monitoringXhr');
    if (previous) {
      previous.abort();
    }
    $card.removeData('monitoringStale');
    if (quiet && $card.attr('data-state') !== 'error' && $card.attr('data-state') !== 'loading') {
      $card.addClass('monitoring-refreshing');
    } else {
      setState($card, 'loading');
      $card.find('.monitoring-table').prop('hidden', true);
      $card.find('.monitoring-card-body').addClass('monitoring-dimmed');
    }
    queue = queue.filter(function (queued) { return queued[0] !== $card[0]; });
    queue.push($card);
    pump();
  }

  function pump() {
    while (inFlight < MAX_IN_FLIGHT && queue.length) {
      request(queue.shift());
    }
  }

  function request($card) {
    var $body = $card.find('.monitoring-card-body');
    // A monitor's page gives its card every parameter of its URL; the dashboard the range.
    var params = $card.attr('data-params');
    var xhr = $.ajax({
      url: $card.attr('data-url'),
      data: params !== undefined ? params + (params ? '&' : '') + 'format=card' : { range: rangeOf($card), format: 'card' },
      dataType: 'html',
      timeout: TIMEOUT_MS
    });
    inFlight += 1;
    $card.data('monitoringXhr', xhr);
    $card.attr('data-requests', String(Number($card.attr('data-requests') || 0) + 1));
    xhr.done(function (html) {
      var $content = $($.parseHTML(html)).filter('.monitoring-card-content');
      if (!$content.length) {
        // A redirect to the login page answers 200 too.
        showError($card, MESSAGES.session);
        return;
      }
      announce($card, 'monitoring:card-unload');
      $body.empty().append($content);
      show($card, $content);
    }).fail(function (failed, status) {
      if (status !== 'abort') {
        showError($card, errorMessage(failed, status));
      }
    }).always(function () {
      inFlight -= 1;
      if ($card.data('monitoringXhr') === xhr) {
        $card.removeData('monitoringXhr');
        $card.removeClass('monitoring-refreshing');
        $body.removeClass('monitoring-dimmed');
      }
      pump();
    });
  }

  // Cards below the fold wait until they are about to scroll into view.
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var $card = $(entry.target);
      $card.data('monitoringVisible', entry.isIntersecting);
      var stale = $card.data('monitoringStale');
      if (entry.isIntersecting && ($card.attr('data-state') === 'idle' || stale)) {
        load($card, stale === 'quiet');
      }
    });
  }, { rootMargin: '100px 0px' });

  $main.find('.monitoring-card').each(function () {
    // The dashboard renders its first cards into the page: those need no request.
    var $content = $(this).find('.monitoring-card-body > .monitoring-card-content');
    if ($content.length) {
      show($(this), $content);
    }
    observer.observe(this);
  });

  // controls.js asks for a reload when the page's range changes or auto-refresh ticks:
  // visible cards reload now, the others when they next scroll into view.
  $main.on('monitoring:reload', function (event, options) {
    var quiet = Boolean(options && options.quiet);
    $main.find('.monitoring-card').each(function () {
      var $card = $(this);
      if ($card.data('monitoringVisible')) {
        load($card, quiet);
      } else if ($card.attr('data-state') !== 'idle') {
        // A refresh may wait quietly; a new range must show that it is loading.
        var loud = !quiet || $card.data('monitoringStale') === 'loud';
        $card.data('monitoringStale', loud ? 'loud' : 'quiet');
      }
    });
  });

  $main.on('change', '.monitoring-card-range', function () {
    load($(this).closest('.monitoring-card'), false);
  });

  $main.on('click', '.monitoring-retry', function () {
    load($(this).closest('.monitoring-card'), false);
  });
})(jQuery);
