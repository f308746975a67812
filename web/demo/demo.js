// Demo Company's own page script: its cookie banner tells the livehelp widget what the
// visitor chose. Nothing here is part of livehelp except the LiveHelp calls.
(function () {
  'use strict';
  var KEY = 'demo-company-consent';

  function whenWidget(fn) {
    if (window.LiveHelp) fn(window.LiveHelp);
    else window.addEventListener('livehelp:ready', function () { fn(window.LiveHelp); }, { once: true });
  }
  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function remember(value) {
    try { window.localStorage.setItem(KEY, value); } catch (e) { /* storage blocked: ask again next time */ }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var banner = document.getElementById('consent');
    var choice = remembered();
    if (choice === 'yes') whenWidget(function (lh) { lh.consent(true); });
    else if (choice === 'no') whenWidget(function (lh) { lh.consent(false); });
    else banner.hidden = false;

    document.getElementById('consent-yes').addEventListener('click', function () {
      remember('yes');
      banner.hidden = true;
      whenWidget(function (lh) { lh.consent(true); });
    });
    document.getElementById('consent-no').addEventListener('click', function () {
      remember('no');
      banner.hidden = true;
      whenWidget(function (lh) { lh.consent(false); });
    });
    document.getElementById('open-chat').addEventListener('click', function () {
      whenWidget(function (lh) { lh.open(); });
    });
    document.querySelectorAll('.buy button').forEach(function (b) {
      b.addEventListener('click', function () {
        var cart = document.querySelector('.cart');
        var n = parseInt(cart.textContent.replace(/\D/g, ''), 10) + 1;
        cart.textContent = 'Cart (' + n + ')';
      });
    });
  });
})();
