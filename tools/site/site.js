/* The course site's search: a small scorer over assets/search-index.js (window.VIDLAB_SEARCH), no server needed. */
(function () {
  var input = document.getElementById('vidlab-search'), box = document.getElementById('vidlab-search-results');
  if (!input || !box) return;
  var docs = (window.VIDLAB_SEARCH || []).map(function (d) {
    return { url: d.url, page: d.page, title: d.title, text: d.text, low: (d.title + ' ' + d.text).toLowerCase(),
             lowTitle: d.title.toLowerCase() };
  });
  function esc(s) { return s.replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function snippet(d, word) {
    var i = d.text.toLowerCase().indexOf(word);
    if (i < 0) return d.text.slice(0, 140);
    var a = Math.max(0, i - 60);
    return (a ? '…' : '') + d.text.slice(a, i + 80) + '…';
  }
  function search(q) {
    var words = q.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 1; });
    if (!words.length) return [];
    var hits = [];
    docs.forEach(function (d) {
      var score = 0;
      for (var k = 0; k < words.length; k++) {
        var w = words[k];
        if (d.low.indexOf(w) < 0) return;
        if (d.lowTitle.indexOf(w) >= 0) score += 10;
        score += Math.min(5, d.low.split(w).length - 1);
      }
      hits.push({ d: d, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, 25).map(function (h) { return { d: h.d, snip: snippet(h.d, words[0]) }; });
  }
  function show() {
    var q = input.value.trim();
    if (!q) { box.classList.remove('open'); box.innerHTML = ''; return; }
    var res = search(q);
    box.innerHTML = res.length ? res.map(function (r) {
      return '<a href="' + esc(r.d.url) + '"><span class="where">' + esc(r.d.page) + (r.d.title !== r.d.page ? ' › ' + esc(r.d.title) : '') +
        '</span><span class="snippet">' + esc(r.snip) + '</span></a>';
    }).join('') : '<div class="none">No match for “' + esc(q) + '”</div>';
    box.classList.add('open');
  }
  input.addEventListener('input', show);
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { var first = box.querySelector('a'); if (first) window.location.href = first.getAttribute('href'); }
    if (e.key === 'Escape') { input.value = ''; show(); }
  });
  document.addEventListener('click', function (e) { if (!box.contains(e.target) && e.target !== input) box.classList.remove('open'); });
})();
