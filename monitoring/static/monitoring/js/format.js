// One rule for every time and number the dashboard shows (axis, legend, table, summary):
// the page's language from <html lang>, that language's own 12- or 24-hour clock, and
// always the site's time zone. Shared with the other scripts as djangoMonitoring.format,
// without jQuery: chart.js draws the first chart before jQuery has loaded.
(function () {
  'use strict';

  var lang = document.documentElement.lang || 'en';
  var cache = {};
  // A 24-hour clock writes its hours with two digits (00:00, 09:05), in every format: with a
  // date, Intl would otherwise write 0:00 in German.
  var hours = new Intl.DateTimeFormat(lang, { hour: 'numeric' }).resolvedOptions().hourCycle;
  var twoDigitHours = hours === 'h23' || hours === 'h24';

  function formatter(timeZone, parts) {
    var key = timeZone + '|' + parts;
    if (!cache[key]) {
      var options = { timeZone: timeZone };
      if (parts.indexOf('date') !== -1) {
        options.year = 'numeric';
        options.month = 'short';
        options.day = 'numeric';
      }
      if (parts.indexOf('day') !== -1) {
        options.month = 'short';
        options.day = 'numeric';
      }
      if (parts === 'clock') {
        options.hour = '2-digit';
        options.minute = '2-digit';
        options.hourCycle = 'h23';
      }
      if (parts.indexOf('time') !== -1) {
        options.hour = twoDigitHours ? '2-digit' : 'numeric';
        options.minute = '2-digit';
      }
      cache[key] = new Intl.DateTimeFormat(lang, options);
    }
    return cache[key];
  }

  // A bucket's start: the date alone for day and week buckets, else date and time.
  function time(seconds, timeZone, resolution) {
    var dateOnly = resolution === 'day' || resolution === 'week';
    return formatter(timeZone, dateOnly ? 'date' : 'date time').format(new Date(seconds * 1000));
  }

  // Axis ticks: a short date for ticks a day or more apart and at midnight, else a time.
  function axis(seconds, timeZone, step) {
    var date = new Date(seconds * 1000);
    if (step >= 86400) {
      return formatter(timeZone, 'day').format(date);
    }
    var midnight = formatter(timeZone, 'clock').formatToParts(date).filter(function (part) {
      return part.type === 'hour' || part.type === 'minute';
    }).every(function (part) { return Number(part.value) === 0; });
    return formatter(timeZone, midnight ? 'day' : 'time').format(date);
  }

  function number(value, unit) {
    if (value === null || value === undefined) {
      return '';
    }
    var size = Math.abs(value);
    var digits = size >= 100 || Number.isInteger(value) ? 0 : (size >= 10 ? 1 : 2);
    var text = value.toLocaleString(lang, { maximumFractionDigits: digits });
    return unit ? text + '\u00a0' + unit : text;
  }

  // The server writes each <time> of a card as Django formats it; the same rule as the
  // chart's is applied here, so the summary and the chart read alike.
  function localize(root, timeZone) {
    root.querySelectorAll('time[datetime]').forEach(function (el) {
      var seconds = Date.parse(el.getAttribute('datetime')) / 1000;
      if (!isNaN(seconds)) {
        el.textContent = time(seconds, timeZone, el.hasAttribute('data-date-only') ? 'day' : 'minute');
      }
    });
  }

  // Our scripts' one global: the parts they share.
  var shared = window.djangoMonitoring = window.djangoMonitoring || {};
  shared.format = { lang: lang, time: time, axis: axis, number: number, localize: localize };
})();
